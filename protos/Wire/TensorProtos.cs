using AccelBroker.Protocol.V1;
using Google.Protobuf;

namespace AccelBroker.Protocol.Wire;

/// <summary>Builds tensor messages the same way on both sides of the wire.</summary>
internal static class TensorProtos
{
    /// <summary>
    /// A tensor message over <paramref name="data"/>, which is wrapped rather than copied and must not change
    /// until the message is sent. With <paramref name="compress"/>, LZ4 is used only where it shrinks the bytes;
    /// without <paramref name="includeData"/>, only the metadata (for streaming headers).
    /// </summary>
    public static TensorProto Create(DataType dataType, IEnumerable<long> shape, ReadOnlyMemory<byte> data, bool compress, bool includeData = true)
    {
        var proto = new TensorProto { Dtype = dataType, RawLength = data.Length };
        proto.Shape.AddRange(shape);
        if (!includeData)
        {
            return proto;
        }

        if (compress && Lz4Block.TryCompress(data.Span) is { } compressed)
        {
            proto.Compression = Compression.Lz4;
            proto.Data = UnsafeByteOperations.UnsafeWrap(compressed);
        }
        else
        {
            proto.Data = UnsafeByteOperations.UnsafeWrap(data);
        }

        return proto;
    }
}
