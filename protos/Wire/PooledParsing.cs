using System.Buffers;
using AccelBroker.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace AccelBroker.Protocol.Wire;

/// <summary>
/// Parses data-path messages with their large <c>bytes</c> fields copied once into pooled arrays instead of the
/// fresh array per field that the generated parser allocates. Wire-compatible by construction: the tensor bytes
/// are cut out of the encoded message and every other field is handed, as encoded, to the generated parser. Input
/// this reader does not follow (groups, a truncated field) goes to the generated parser whole, which accepts or
/// refuses it exactly as it would have.
/// </summary>
internal static class PooledParsing
{
    /// <summary>Messages smaller than this are parsed as generated: their bytes are young-generation arrays already.</summary>
    public const int MinPooledMessageBytes = 32 * 1024;

    private const int TensorDataField = 5; // TensorProto.data

    /// <summary>
    /// Parses a message whose repeated field <paramref name="tensorField"/> holds <see cref="TensorProto"/>s, with each
    /// tensor's data in an array of <paramref name="owner"/>.
    /// </summary>
    public static T ParseWithTensors<T>(
        ReadOnlySequence<byte> payload, MessageParser<T> parser, int tensorField, Func<T, RepeatedField<TensorProto>> tensors, PooledBuffers owner)
        where T : IMessage<T>
    {
        if (payload.Length < MinPooledMessageBytes || !TrySplit(payload, tensorField, out byte[] rest, out List<ReadOnlySequence<byte>> found, out _))
        {
            return parser.ParseFrom(payload);
        }

        var parsed = new List<TensorProto>(found.Count);
        foreach (ReadOnlySequence<byte> encoded in found)
        {
            if (!TrySplit(encoded, TensorDataField, out byte[] metadata, out List<ReadOnlySequence<byte>> data, out _))
            {
                return parser.ParseFrom(payload);
            }

            TensorProto tensor = TensorProto.Parser.ParseFrom(metadata);
            // A bytes field given twice keeps its last value, as the generated parser does.
            if (data.Count > 0)
            {
                tensor.Data = Pooled(data[^1], owner);
            }

            parsed.Add(tensor);
        }

        T message = parser.ParseFrom(rest);
        tensors(message).AddRange(parsed);
        return message;
    }

    /// <summary>
    /// Parses a message whose <c>bytes</c> field <paramref name="bytesField"/> goes into an array of
    /// <paramref name="owner"/>, set on the message by <paramref name="set"/>.
    /// </summary>
    public static T ParseWithBytes<T>(
        ReadOnlySequence<byte> payload, MessageParser<T> parser, int bytesField, Action<T, ByteString> set, PooledBuffers owner)
        where T : IMessage<T>
    {
        if (payload.Length < MinPooledMessageBytes || !TrySplit(payload, bytesField, out byte[] rest, out List<ReadOnlySequence<byte>> found, out int lastField))
        {
            return parser.ParseFrom(payload);
        }

        // The data-path oneofs put the bytes case beside one message case, and the last one given wins, as in the
        // generated parser. The field is set after the others, which is right only when it came last.
        if (found.Count > 0 && lastField != bytesField)
        {
            return parser.ParseFrom(payload);
        }

        T message = parser.ParseFrom(rest);
        if (found.Count > 0)
        {
            set(message, Pooled(found[^1], owner));
        }

        return message;
    }

    private static ByteString Pooled(ReadOnlySequence<byte> data, PooledBuffers owner)
    {
        if (data.Length == 0)
        {
            return ByteString.Empty;
        }

        int length = checked((int)data.Length);
        byte[] array = owner.Rent(length);
        data.CopyTo(array);
        return UnsafeByteOperations.UnsafeWrap(array.AsMemory(0, length));
    }

    // Cuts every length-delimited occurrence of `field` out of `message`; the remaining fields, still encoded, go to
    // `rest`, and `lastField` is the number of the last field in it. False where the encoding is not one this reader follows.
    private static bool TrySplit(ReadOnlySequence<byte> message, int field, out byte[] rest, out List<ReadOnlySequence<byte>> found, out int lastField)
    {
        found = [];
        rest = [];
        lastField = 0;
        var reader = new SequenceReader<byte>(message);
        var others = new ArrayBufferWriter<byte>(256);
        while (!reader.End)
        {
            long start = reader.Consumed;
            if (!TryReadVarint(ref reader, out ulong tag) || tag >> 3 == 0 || tag >> 3 > int.MaxValue)
            {
                return false;
            }

            int wireType = (int)(tag & 7);
            lastField = (int)(tag >> 3);
            if (lastField == field && wireType == 2)
            {
                if (!TryReadVarint(ref reader, out ulong length) || length > (ulong)reader.Remaining)
                {
                    return false;
                }

                found.Add(reader.UnreadSequence.Slice(0, (long)length));
                reader.Advance((long)length);
                continue;
            }

            if (!TrySkip(ref reader, wireType))
            {
                return false;
            }

            foreach (ReadOnlyMemory<byte> segment in message.Slice(start, reader.Consumed - start))
            {
                others.Write(segment.Span);
            }
        }

        rest = others.WrittenSpan.ToArray();
        return true;
    }

    private static bool TrySkip(ref SequenceReader<byte> reader, int wireType)
    {
        switch (wireType)
        {
            case 0:
                return TryReadVarint(ref reader, out _);
            case 1:
                return reader.TryAdvance(8);
            case 2:
                return TryReadVarint(ref reader, out ulong length) && length <= (ulong)reader.Remaining && reader.TryAdvance((long)length);
            case 5:
                return reader.TryAdvance(4);
            default:
                return false;
        }
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out byte b))
            {
                return false;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryAdvance(this ref SequenceReader<byte> reader, long count)
    {
        if (reader.Remaining < count)
        {
            return false;
        }

        reader.Advance(count);
        return true;
    }
}
