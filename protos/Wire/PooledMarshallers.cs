using System.Buffers;
using AccelBroker.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace AccelBroker.Protocol.Wire;

/// <summary>
/// Marshallers for the inference calls that receive large bytes into pooled arrays (see <see cref="PooledParsing"/>)
/// and, once a message is written, give back the arrays it was sent from. Wire format: exactly the generated one.
/// Both ends use them: the agent for what clients send, the client for what agents answer.
/// </summary>
internal static class PooledMarshallers
{
    public static Marshaller<RunRequest> RunRequest { get; } = Create(
        (payload, owner) => PooledParsing.ParseWithTensors(payload, V1.RunRequest.Parser, V1.RunRequest.InputsFieldNumber, m => m.Inputs, owner));

    public static Marshaller<RunResponse> RunResponse { get; } = Create(
        (payload, owner) => PooledParsing.ParseWithTensors(payload, V1.RunResponse.Parser, V1.RunResponse.OutputsFieldNumber, m => m.Outputs, owner));

    public static Marshaller<RunStreamRequest> RunStreamRequest { get; } = Create(
        (payload, owner) => PooledParsing.ParseWithBytes(payload, V1.RunStreamRequest.Parser, V1.RunStreamRequest.ChunkFieldNumber, (m, b) => m.Chunk = b, owner));

    public static Marshaller<RunStreamResponse> RunStreamResponse { get; } = Create(
        (payload, owner) => PooledParsing.ParseWithBytes(payload, V1.RunStreamResponse.Parser, V1.RunStreamResponse.ChunkFieldNumber, (m, b) => m.Chunk = b, owner));

    public static Marshaller<EchoRequest> EchoRequest { get; } = Create(
        (payload, owner) => PooledParsing.ParseWithBytes(payload, V1.EchoRequest.Parser, V1.EchoRequest.PayloadFieldNumber, (m, b) => m.Payload = b, owner));

    public static Marshaller<EchoResponse> EchoResponse { get; } = Create(
        (payload, owner) => PooledParsing.ParseWithBytes(payload, V1.EchoResponse.Parser, V1.EchoResponse.PayloadFieldNumber, (m, b) => m.Payload = b, owner));

    /// <summary>The arrays a received message's bytes live in; null where it has none.</summary>
    public static PooledBuffers? PooledOf(IMessage message) => (message as IPooledMessage)?.Pooled;

    /// <summary>Hands <paramref name="buffers"/> to <paramref name="message"/>: its serializer gives them back after writing it.</summary>
    public static T ReleaseAfterSend<T>(T message, PooledBuffers? buffers)
        where T : IMessage
    {
        if (buffers is not null && message is IPooledMessage pooled)
        {
            pooled.Pooled = buffers;
        }

        return message;
    }

    private static Marshaller<T> Create<T>(Func<ReadOnlySequence<byte>, PooledBuffers, T> parse)
        where T : class, IMessage<T>, IPooledMessage =>
        new(
            static (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                message.WriteTo(context.GetBufferWriter());
                context.Complete();
                // Copied into the transport's buffers: nothing reads the arrays any more.
                message.Pooled?.Release();
            },
            context =>
            {
                var owner = new PooledBuffers(PayloadPool.Shared);
                T message = parse(context.PayloadAsReadOnlySequence(), owner);
                message.Pooled = owner;
                return message;
            });
}
