using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;

namespace AccelBroker.Cli.Measuring;

/// <summary>The inputs and run counts shared by <c>accel bench</c> and <c>accel compare</c>; the inputs alone by <c>accel max-models</c>.</summary>
internal sealed class BenchInputOptions
{
    // Random inputs are the same on every run and every machine, so two benchmarks measure the same work.
    private const int Seed = 20_02;

    public Option<FileInfo[]> Inputs { get; } = new("--input") { Description = "Input tensor as .npy, in argument order (repeat for more)" };

    public Option<string?> InputShape { get; } = new("--input-shape") { Description = "Shape of one random input, e.g. 1,3,224,224 (instead of --input)" };

    public Option<string> DataType { get; } = new("--dtype") { Description = "dtype of the --input-shape input", DefaultValueFactory = _ => "float32" };

    public Option<int> Runs { get; } = new("-n") { Description = "Measured runs, after the warm-up ones", DefaultValueFactory = _ => 1000 };

    public Option<int> Warmup { get; } = new("--warmup") { Description = "Warm-up runs before the measured ones (discarded)", DefaultValueFactory = _ => 1 };

    public void AddTo(Command command)
    {
        AddInputsTo(command);
        command.Options.Add(Runs);
        command.Options.Add(Warmup);
    }

    /// <summary>Only the input options (<c>--input</c>, <c>--input-shape</c>, <c>--dtype</c>), for verbs that do not measure runs.</summary>
    public void AddInputsTo(Command command)
    {
        command.Options.Add(Inputs);
        command.Options.Add(InputShape);
        command.Options.Add(DataType);
    }

    /// <summary>
    /// The dtype and shape of each input, for a load's warm-up (the values are not sent); empty when no input
    /// option was given.
    /// </summary>
    public IReadOnlyList<(TensorDataType DataType, long[] Shape)> WarmupSpecs(ParseResult parse)
    {
        (FileInfo[] files, string? shapeText) = Given(parse);
        if (files.Length > 0)
        {
            return files.Select(f =>
            {
                Tensor tensor = Npy.Read(f.FullName);
                return (tensor.DataType, tensor.Shape.ToArray());
            }).ToArray();
        }

        return shapeText is null ? [] : [(ParseDataType(parse), ParseShape(shapeText))];
    }

    public (int Runs, int Warmup) Counts(ParseResult parse)
    {
        int runs = parse.GetValue(Runs);
        int warmup = parse.GetValue(Warmup);
        if (runs is < 1 or > 100_000)
        {
            throw new CliException($"-n must be between 1 and 100000, got {runs}");
        }

        return warmup is < 0 or > 10_000
            ? throw new CliException($"--warmup must be between 0 and 10000, got {warmup}")
            : (runs, warmup);
    }

    /// <summary>The inputs of every run; <paramref name="batch"/> sets or repeats along the first dimension.</summary>
    public Tensor[] Build(ParseResult parse, int? batch)
    {
        if (batch is < 1)
        {
            throw new CliException($"--batch must be at least 1, got {batch}");
        }

        (FileInfo[] files, string? shapeText) = Given(parse);
        if (files.Length > 0)
        {
            return files.Select(f => batch is { } b ? Repeat(Npy.Read(f.FullName), b, f.Name) : Npy.Read(f.FullName)).ToArray();
        }

        if (shapeText is null)
        {
            throw new CliException("no inputs: give --input FILE.npy (repeatable) or --input-shape 1,3,224,224 --dtype float32");
        }

        long[] shape = ParseShape(shapeText);
        if (batch is { } first)
        {
            shape[0] = first;
        }

        return [Random(ParseDataType(parse), shape)];
    }

    // Files or a shape, never both: what the warm-up specs and the inputs are both made from.
    private (FileInfo[] Files, string? ShapeText) Given(ParseResult parse)
    {
        FileInfo[] files = parse.GetValue(Inputs) ?? [];
        string? shapeText = parse.GetValue(InputShape);
        return files.Length > 0 && shapeText is not null
            ? throw new CliException("give either --input FILE.npy (repeatable) or --input-shape with --dtype, not both")
            : (files, shapeText);
    }

    /// <summary>Items per request for throughput: the first dimension of the first input.</summary>
    public static long BatchOf(IReadOnlyList<Tensor> inputs) =>
        inputs.Count > 0 && inputs[0].Shape.Count > 0 ? Math.Max(1, inputs[0].Shape[0]) : 1;

    private TensorDataType ParseDataType(ParseResult parse)
    {
        string text = parse.GetValue(DataType)!;
        return TensorDataTypeExtensions.TryParse(text, out TensorDataType dataType)
            ? dataType
            : throw new CliException($"--dtype '{text}' is not one of float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool");
    }

    public static long[] ParseShape(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var shape = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] < 1)
            {
                throw new CliException($"--input-shape must be comma-separated positive integers such as 1,3,224,224, got '{text}'");
            }
        }

        long elements = 1;
        foreach (long dim in shape)
        {
            elements = elements > (1L << 31) / dim ? throw new CliException($"--input-shape {text} is larger than 2^31 elements") : elements * dim;
        }

        return shape;
    }

    private static Tensor Repeat(Tensor tensor, int times, string name)
    {
        if (tensor.Shape.Count == 0)
        {
            throw new CliException($"--batch repeats along dimension 0, but {name} is a scalar");
        }

        long[] shape = [.. tensor.Shape];
        shape[0] *= times;
        byte[] data = new byte[checked(tensor.Data.Length * times)];
        for (int i = 0; i < times; i++)
        {
            tensor.Data.Span.CopyTo(data.AsSpan(i * tensor.Data.Length));
        }

        return new Tensor(tensor.DataType, shape, data);
    }

    private static Tensor Random(TensorDataType dataType, long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        int size = dataType.GetElementSize();
        byte[] data = new byte[checked((int)(count * size))];
        var random = new Random(Seed);
        Span<byte> span = data;
        for (int i = 0; i < count; i++)
        {
            Span<byte> element = span.Slice(i * size, size);
            float value = random.NextSingle();
            switch (dataType)
            {
                case TensorDataType.Float32:
                    BinaryPrimitives.WriteSingleLittleEndian(element, value);
                    break;
                case TensorDataType.Float64:
                    BinaryPrimitives.WriteDoubleLittleEndian(element, value);
                    break;
                case TensorDataType.Float16:
                    BinaryPrimitives.WriteHalfLittleEndian(element, (Half)value);
                    break;
                case TensorDataType.BFloat16:
                    // bfloat16 is the upper half of a float32.
                    BinaryPrimitives.WriteUInt16LittleEndian(element, (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16));
                    break;
                case TensorDataType.Int64:
                    BinaryPrimitives.WriteInt64LittleEndian(element, random.Next(10));
                    break;
                case TensorDataType.Int32:
                    BinaryPrimitives.WriteInt32LittleEndian(element, random.Next(10));
                    break;
                case TensorDataType.Int16:
                    BinaryPrimitives.WriteInt16LittleEndian(element, (short)random.Next(10));
                    break;
                case TensorDataType.Bool:
                    element[0] = (byte)random.Next(2);
                    break;
                default:
                    element[0] = (byte)random.Next(10);
                    break;
            }
        }

        return new Tensor(dataType, shape, data);
    }
}
