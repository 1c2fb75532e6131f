using System.Buffers;
using Grpc.Core;

namespace AccelBroker.Tests.Wire;

/// <summary>A received payload as gRPC hands it to a marshaller: a sequence cut into segments of a chosen size.</summary>
internal sealed class TestDeserializationContext(byte[] payload, int segmentBytes) : DeserializationContext
{
    public override int PayloadLength => payload.Length;

    public override byte[] PayloadAsNewBuffer() => (byte[])payload.Clone();

    public override ReadOnlySequence<byte> PayloadAsReadOnlySequence()
    {
        if (payload.Length <= segmentBytes)
        {
            return new ReadOnlySequence<byte>(payload);
        }

        Segment first = new(payload.AsMemory(0, segmentBytes), 0);
        Segment last = first;
        for (int offset = segmentBytes; offset < payload.Length; offset += segmentBytes)
        {
            last = last.Append(payload.AsMemory(offset, Math.Min(segmentBytes, payload.Length - offset)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
