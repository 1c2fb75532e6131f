using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Google.Protobuf.Collections;

namespace AccelBroker.Agent.Execution;

/// <summary>Checks wire tensors before torch is touched: dtype known, shape valid, byte length exact.</summary>
internal static class InputDecoder
{
    /// <summary>The largest one input may be: it is held in one managed array on its way to the worker.</summary>
    public static readonly long MaxTensorBytes = Array.MaxLength;

    public static long ExpectedBytes(TensorProto proto, int index)
    {
        int size = DataTypeSizes.ElementSize(proto.Dtype);
        if (size == 0)
        {
            throw DomainException.Invalid($"input {index}: dtype {DataTypeSizes.Name(proto.Dtype)} is not supported");
        }

        try
        {
            return DataTypeSizes.ByteCount(proto.Shape, size);
        }
        catch (Exception ex) when (ex is ArgumentException or OverflowException)
        {
            throw DomainException.Invalid($"input {index}: invalid shape {DataTypeSizes.FormatShape(proto.Shape)}: {ex.Message}");
        }
    }

    /// <summary>
    /// Adds input <paramref name="index"/>'s <paramref name="expected"/> bytes to <paramref name="total"/>, checked
    /// against the run's limit and the one-input limit before anything is allocated for them.
    /// </summary>
    public static void CountAgainstLimits(TensorProto proto, int index, long expected, ref long total, long maxRequestBytes)
    {
        // Compared before adding, so a huge input cannot wrap the total round.
        if (expected > maxRequestBytes - total)
        {
            throw DomainException.Exhausted($"inputs exceed this agent's limit of {maxRequestBytes} bytes per run");
        }

        if (expected > MaxTensorBytes)
        {
            throw DomainException.Exhausted($"input {index}: {Describe(proto)} needs {expected} bytes, over this agent's limit of {MaxTensorBytes} bytes per input");
        }

        total += expected;
    }

    public static List<WireTensor> Decode(RepeatedField<TensorProto> inputs, long maxBytes)
    {
        var decoded = new List<WireTensor>(inputs.Count);
        long total = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            TensorProto proto = inputs[i];
            long expected = ExpectedBytes(proto, i);
            CountAgainstLimits(proto, i, expected, ref total, maxBytes);
            ReadOnlyMemory<byte> data = proto.Data.Memory;
            if (proto.Compression == Compression.Lz4)
            {
                if (proto.RawLength != expected)
                {
                    throw DomainException.Invalid($"input {i}: raw_length {proto.RawLength} but {Describe(proto)} needs {expected} bytes");
                }

                try
                {
                    // Refuses a claim the block cannot expand to before the claimed bytes are allocated.
                    data = Lz4Block.Decompress(data.Span, expected);
                }
                catch (InvalidDataException ex)
                {
                    throw DomainException.Invalid($"input {i}: {ex.Message}");
                }
            }
            else if (proto.Compression is not (Compression.None or Compression.Unspecified))
            {
                throw DomainException.Invalid($"input {i}: unknown compression {(int)proto.Compression}");
            }

            if (data.Length != expected)
            {
                throw DomainException.Invalid($"input {i}: {data.Length} bytes but {Describe(proto)} needs {expected} bytes");
            }

            decoded.Add(new WireTensor(proto.Dtype, [.. proto.Shape], data));
        }

        return decoded;
    }

    public static string Describe(TensorProto proto) => $"{DataTypeSizes.Name(proto.Dtype)} {DataTypeSizes.FormatShape(proto.Shape)}";
}
