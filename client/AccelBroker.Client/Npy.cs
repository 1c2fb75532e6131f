using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace AccelBroker.Client;

/// <summary>Reads and writes tensors in NumPy's <c>.npy</c> format (what <c>numpy.save</c> and <c>numpy.load</c> use).</summary>
/// <remarks>
/// Supported NumPy dtypes: float32, float64, float16, int64, int32, int16, int8, uint8 and bool. bfloat16 has no NumPy
/// dtype and cannot be written. Big-endian and Fortran-order files are converted to little-endian row-major on read.
/// </remarks>
public static class Npy
{
    // Not a u8 literal: "\x93" there is the character U+0093, which UTF-8 encodes as two bytes.
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // numpy aligns the data start to this many bytes (ARRAY_ALIGN in numpy/lib/format.py).
    private const int Alignment = 64;

    // numpy pads the header so that the first dimension can grow in place to this many digits (GROWTH_AXIS_MAX_DIGITS).
    private const int GrowthAxisMaxDigits = 21;

    // Real headers are a few hundred bytes; the cap keeps a garbage length field from allocating gigabytes.
    private const int MaxHeaderLength = 16 * 1024 * 1024;

    /// <summary>Reads a tensor from a <c>.npy</c> file.</summary>
    /// <param name="path">The file to read.</param>
    /// <returns>The tensor, in little-endian row-major order whatever the file's layout.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid <c>.npy</c> file, has an unsupported dtype, or is truncated or longer than its header says.</exception>
    public static Tensor Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        return Read(stream, $"'{path}'", requireEnd: true);
    }

    /// <summary>Reads one tensor from a stream positioned at the start of <c>.npy</c> data.</summary>
    /// <param name="stream">The stream; it is left positioned right after the tensor's data, so several arrays saved one after another can be read in turn.</param>
    /// <returns>The tensor, in little-endian row-major order whatever the stream's layout.</returns>
    /// <exception cref="InvalidDataException">The data is not valid <c>.npy</c>, has an unsupported dtype, or ends early.</exception>
    public static Tensor Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, "The stream", requireEnd: false);
    }

    /// <summary>Writes a tensor to a <c>.npy</c> file, replacing the file if it exists.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="tensor">The tensor to write.</param>
    /// <exception cref="NotSupportedException">The tensor is bfloat16, which NumPy has no dtype for.</exception>
    public static void Write(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        // Built before the file is created so that an unsupported dtype does not leave an empty file behind.
        byte[] preamble = BuildPreamble(tensor);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        stream.Write(preamble);
        stream.Write(tensor.Data.Span);
    }

    /// <summary>Writes a tensor as <c>.npy</c> data, with the same bytes <c>numpy.save</c> would write.</summary>
    /// <param name="stream">The stream to write to.</param>
    /// <param name="tensor">The tensor to write.</param>
    /// <exception cref="NotSupportedException">The tensor is bfloat16, which NumPy has no dtype for.</exception>
    public static void Write(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensor);
        stream.Write(BuildPreamble(tensor));
        stream.Write(tensor.Data.Span);
    }

    private static Tensor Read(Stream stream, string source, bool requireEnd)
    {
        Span<byte> prefix = stackalloc byte[Magic.Length + 2];
        ReadExactly(stream, prefix, source, "the magic string and version");
        if (!prefix[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{source} is not a .npy file: it does not start with \\x93NUMPY.");
        }

        byte major = prefix[Magic.Length];
        byte minor = prefix[Magic.Length + 1];
        if (major is not (1 or 2 or 3) || minor != 0)
        {
            throw new InvalidDataException($"{source} has .npy format version {major}.{minor}; only 1.0, 2.0 and 3.0 are supported.");
        }

        Span<byte> lengthField = stackalloc byte[major == 1 ? 2 : 4];
        ReadExactly(stream, lengthField, source, "the header length");
        uint headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthField) : BinaryPrimitives.ReadUInt32LittleEndian(lengthField);
        if (headerLength > MaxHeaderLength)
        {
            throw new InvalidDataException($"{source} declares a {headerLength}-byte .npy header; more than {MaxHeaderLength} bytes is not plausible.");
        }

        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, source, "the header");
        // Versions 1 and 2 store the header as Latin-1, version 3 as UTF-8.
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        (string descr, bool fortranOrder, long[] shape) = ParseHeader(header, source);
        (TensorDataType dataType, bool bigEndian) = ParseDescr(descr, source);

        long byteCount = CountBytes(shape, dataType.GetElementSize(), source);
        if (stream.CanSeek && stream.Length - stream.Position < byteCount)
        {
            // Checked up front so that a truncated file with a huge shape does not allocate its full size first.
            throw Truncated(source, byteCount, stream.Length - stream.Position);
        }

        var data = new byte[byteCount];
        int read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read < data.Length)
        {
            throw Truncated(source, byteCount, read);
        }

        if (requireEnd && stream.ReadByte() != -1)
        {
            throw new InvalidDataException($"{source} is longer than its .npy header says: expected {byteCount} data bytes, found more.");
        }

        if (bigEndian)
        {
            ReverseEndianness(data, dataType.GetElementSize());
        }

        if (fortranOrder && shape.Length > 1)
        {
            data = ToRowMajor(data, shape, dataType.GetElementSize());
        }

        return new Tensor(dataType, shape, data);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string source, string what)
    {
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length)
        {
            throw new InvalidDataException($"{source} ends before {what} of its .npy header (only {read} of {buffer.Length} bytes there).");
        }
    }

    private static InvalidDataException Truncated(string source, long expected, long actual) =>
        new($"{source} is truncated: its .npy header declares {expected} data bytes, but only {actual} follow.");

    private static long CountBytes(long[] shape, int elementSize, string source)
    {
        long count = 1;
        foreach (long dimension in shape)
        {
            count = dimension == 0 ? 0 : count > Array.MaxLength / dimension ? long.MaxValue : count * dimension;
        }

        if (count > Array.MaxLength / elementSize)
        {
            throw new InvalidDataException($"{source} holds an array of shape {Tensor.FormatShape(shape)}, too large for one .NET array.");
        }

        return count * elementSize;
    }

    private static (TensorDataType DataType, bool BigEndian) ParseDescr(string descr, string source)
    {
        char order = '=';
        string code = descr;
        if (descr.Length > 0 && descr[0] is '<' or '>' or '|' or '=')
        {
            order = descr[0];
            code = descr[1..];
        }

        TensorDataType? dataType = code switch
        {
            "f4" => TensorDataType.Float32,
            "f8" => TensorDataType.Float64,
            "f2" => TensorDataType.Float16,
            "i8" => TensorDataType.Int64,
            "i4" => TensorDataType.Int32,
            "i2" => TensorDataType.Int16,
            "i1" => TensorDataType.Int8,
            "u1" => TensorDataType.UInt8,
            "b1" => TensorDataType.Bool,
            _ => null,
        };

        // '|' means "byte order not applicable", which numpy only writes for one-byte types.
        if (dataType is not { } found || (order == '|' && found.GetElementSize() != 1))
        {
            throw new InvalidDataException(
                $"{source} has NumPy dtype '{descr}', which is not supported. Supported: float32 ('<f4'), float64 ('<f8'), "
                + "float16 ('<f2'), int64 ('<i8'), int32 ('<i4'), int16 ('<i2'), int8 ('|i1'), uint8 ('|u1') and bool ('|b1'), "
                + "in either byte order.");
        }

        return (found, order == '>' && found.GetElementSize() > 1);
    }

    private static void ReverseEndianness(byte[] data, int elementSize)
    {
        switch (elementSize)
        {
            case 2:
                Span<ushort> shorts = MemoryMarshal.Cast<byte, ushort>(data.AsSpan());
                BinaryPrimitives.ReverseEndianness(shorts, shorts);
                break;
            case 4:
                Span<uint> ints = MemoryMarshal.Cast<byte, uint>(data.AsSpan());
                BinaryPrimitives.ReverseEndianness(ints, ints);
                break;
            case 8:
                Span<ulong> longs = MemoryMarshal.Cast<byte, ulong>(data.AsSpan());
                BinaryPrimitives.ReverseEndianness(longs, longs);
                break;
        }
    }

    private static byte[] ToRowMajor(byte[] data, long[] shape, int elementSize)
    {
        var result = new byte[data.Length];
        switch (elementSize)
        {
            case 1:
                ToRowMajor<byte>(data, result.AsSpan(), shape);
                break;
            case 2:
                ToRowMajor(MemoryMarshal.Cast<byte, ushort>(data.AsSpan()), MemoryMarshal.Cast<byte, ushort>(result.AsSpan()), shape);
                break;
            case 4:
                ToRowMajor(MemoryMarshal.Cast<byte, uint>(data.AsSpan()), MemoryMarshal.Cast<byte, uint>(result.AsSpan()), shape);
                break;
            default:
                ToRowMajor(MemoryMarshal.Cast<byte, ulong>(data.AsSpan()), MemoryMarshal.Cast<byte, ulong>(result.AsSpan()), shape);
                break;
        }

        return result;
    }

    private static void ToRowMajor<T>(ReadOnlySpan<T> columnMajor, Span<T> rowMajor, long[] shape)
        where T : unmanaged
    {
        // Walks the row-major index (last dimension fastest) like an odometer and keeps the matching column-major
        // offset, where dimension k has stride shape[0] × … × shape[k-1].
        int rank = shape.Length;
        var strides = new long[rank];
        strides[0] = 1;
        for (int k = 1; k < rank; k++)
        {
            strides[k] = strides[k - 1] * shape[k - 1];
        }

        var index = new long[rank];
        long source = 0;
        for (int target = 0; target < rowMajor.Length; target++)
        {
            rowMajor[target] = columnMajor[(int)source];
            for (int k = rank - 1; k >= 0; k--)
            {
                source += strides[k];
                if (++index[k] < shape[k])
                {
                    break;
                }

                source -= strides[k] * shape[k];
                index[k] = 0;
            }
        }
    }

    private static (string Descr, bool FortranOrder, long[] Shape) ParseHeader(string header, string source)
    {
        string? descr = null;
        bool? fortranOrder = null;
        long[]? shape = null;
        int position = 0;

        Expect(header, ref position, '{', source);
        while (true)
        {
            SkipWhitespace(header, ref position);
            if (TryConsume(header, ref position, '}'))
            {
                break;
            }

            string key = ParseString(header, ref position, source);
            Expect(header, ref position, ':', source);
            SkipWhitespace(header, ref position);
            switch (key)
            {
                case "descr" when descr is null:
                    if (Peek(header, position) == '[')
                    {
                        throw new InvalidDataException($"{source} has a structured NumPy dtype; only plain numeric and bool arrays are supported.");
                    }

                    descr = ParseString(header, ref position, source);
                    break;
                case "fortran_order" when fortranOrder is null:
                    fortranOrder = ParseBool(header, ref position, source);
                    break;
                case "shape" when shape is null:
                    shape = ParseShape(header, ref position, source);
                    break;
                default:
                    throw Malformed(source, header, $"unexpected or repeated key '{key}'");
            }

            SkipWhitespace(header, ref position);
            if (!TryConsume(header, ref position, ','))
            {
                Expect(header, ref position, '}', source);
                break;
            }
        }

        if (header.AsSpan(position).Trim().Length != 0)
        {
            throw Malformed(source, header, "text after the closing '}'");
        }

        if (descr is null || fortranOrder is null || shape is null)
        {
            throw Malformed(source, header, "it must have the keys 'descr', 'fortran_order' and 'shape'");
        }

        return (descr, fortranOrder.Value, shape);
    }

    private static string ParseString(string header, ref int position, string source)
    {
        SkipWhitespace(header, ref position);
        char quote = Peek(header, position);
        if (quote is not ('\'' or '"'))
        {
            throw Malformed(source, header, $"expected a quoted string at offset {position}");
        }

        int end = header.IndexOf(quote, position + 1);
        if (end < 0)
        {
            throw Malformed(source, header, $"unterminated string at offset {position}");
        }

        string value = header[(position + 1)..end];
        position = end + 1;
        return value;
    }

    private static bool ParseBool(string header, ref int position, string source)
    {
        ReadOnlySpan<char> rest = header.AsSpan(position);
        if (rest.StartsWith("True", StringComparison.Ordinal))
        {
            position += "True".Length;
            return true;
        }

        if (rest.StartsWith("False", StringComparison.Ordinal))
        {
            position += "False".Length;
            return false;
        }

        throw Malformed(source, header, $"expected True or False at offset {position}");
    }

    private static long[] ParseShape(string header, ref int position, string source)
    {
        Expect(header, ref position, '(', source);
        var dimensions = new List<long>();
        while (true)
        {
            SkipWhitespace(header, ref position);
            if (TryConsume(header, ref position, ')'))
            {
                break;
            }

            int start = position;
            while (position < header.Length && char.IsAsciiDigit(header[position]))
            {
                position++;
            }

            if (!long.TryParse(header.AsSpan(start, position - start), NumberStyles.None, CultureInfo.InvariantCulture, out long dimension))
            {
                throw Malformed(source, header, $"expected a non-negative integer dimension at offset {start}");
            }

            dimensions.Add(dimension);
            // Python 2 era files write long integers as "3L".
            TryConsume(header, ref position, 'L');
            SkipWhitespace(header, ref position);
            if (!TryConsume(header, ref position, ','))
            {
                Expect(header, ref position, ')', source);
                break;
            }
        }

        return [.. dimensions];
    }

    private static char Peek(string header, int position) => position < header.Length ? header[position] : '\0';

    private static void SkipWhitespace(string header, ref int position)
    {
        while (position < header.Length && char.IsWhiteSpace(header[position]))
        {
            position++;
        }
    }

    private static bool TryConsume(string header, ref int position, char expected)
    {
        if (Peek(header, position) != expected)
        {
            return false;
        }

        position++;
        return true;
    }

    private static void Expect(string header, ref int position, char expected, string source)
    {
        SkipWhitespace(header, ref position);
        if (!TryConsume(header, ref position, expected))
        {
            throw Malformed(source, header, $"expected '{expected}' at offset {position}");
        }
    }

    private static InvalidDataException Malformed(string source, string header, string problem)
    {
        // Garbage input can decode to a long, unprintable header; show a bounded prefix.
        string shown = header.Length > 200 ? header[..200] + "..." : header;
        return new InvalidDataException($"{source} has a malformed .npy header ({problem}): {shown.TrimEnd()}");
    }

    private static byte[] BuildPreamble(Tensor tensor)
    {
        string descr = tensor.DataType switch
        {
            TensorDataType.Float32 => "<f4",
            TensorDataType.Float64 => "<f8",
            TensorDataType.Float16 => "<f2",
            TensorDataType.Int64 => "<i8",
            TensorDataType.Int32 => "<i4",
            TensorDataType.Int16 => "<i2",
            TensorDataType.Int8 => "|i1",
            TensorDataType.UInt8 => "|u1",
            TensorDataType.Bool => "|b1",
            _ => throw new NotSupportedException(
                $"NumPy has no {tensor.DataType.ToName()} dtype, so the tensor cannot be written as .npy; convert it to float32 first (for example with ToSingleArray)."),
        };

        // Same text as numpy.save: keys sorted, Python tuple syntax, then room for the first dimension to grow.
        IReadOnlyList<long> shape = tensor.Shape;
        string tuple = shape.Count switch
        {
            0 => "()",
            1 => string.Create(CultureInfo.InvariantCulture, $"({shape[0]},)"),
            _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
        };
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}";
        if (shape.Count > 0)
        {
            header += new string(' ', GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length);
        }

        // Version 1.0 has a 16-bit header length; numpy switches to 2.0 only when the header does not fit.
        return Wrap(header, major: 1) ?? Wrap(header, major: 2)!;
    }

    private static byte[]? Wrap(string header, byte major)
    {
        int lengthFieldSize = major == 1 ? 2 : 4;
        int prefixLength = Magic.Length + 2 + lengthFieldSize;
        // numpy pads by a full 64 bytes when the header is already aligned; matched so the bytes are identical.
        int padding = Alignment - ((prefixLength + header.Length + 1) % Alignment);
        int headerLength = header.Length + padding + 1;
        if (major == 1 && headerLength > ushort.MaxValue)
        {
            return null;
        }

        var preamble = new byte[prefixLength + headerLength];
        Magic.CopyTo(preamble);
        preamble[Magic.Length] = major;
        Span<byte> lengthField = preamble.AsSpan(Magic.Length + 2, lengthFieldSize);
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(lengthField, (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(lengthField, (uint)headerLength);
        }

        Span<byte> text = preamble.AsSpan(prefixLength);
        int written = Encoding.ASCII.GetBytes(header, text);
        text[written..^1].Fill((byte)' ');
        text[^1] = (byte)'\n';
        return preamble;
    }
}
