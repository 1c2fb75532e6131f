using System.Buffers;
using Grpc.Core;

namespace AccelBroker.Tests.Wire;

/// <summary>What a marshaller's serializer wrote, as gRPC's own serialization context would receive it.</summary>
internal sealed class TestSerializationContext : SerializationContext
{
    private readonly ArrayBufferWriter<byte> _writer = new();

    public byte[] Written { get; private set; } = [];

    public override void Complete(byte[] payload) => Written = payload;

    public override void SetPayloadLength(int payloadLength)
    {
    }

    public override IBufferWriter<byte> GetBufferWriter() => _writer;

    public override void Complete() => Written = _writer.WrittenSpan.ToArray();
}
