using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>
/// The agent's run and echo calls as the generated client describes them, but with the pooled marshallers: what an
/// agent answers is received into pooled arrays, which a disposed <see cref="ModelOutput"/> gives back.
/// </summary>
internal static class PooledAgentMethods
{
    private const string Service = "accelbroker.v1.InferenceAgent";

    public static Method<RunRequest, RunResponse> Run { get; } =
        new(MethodType.Unary, Service, "Run", PooledMarshallers.RunRequest, PooledMarshallers.RunResponse);

    public static Method<RunStreamRequest, RunStreamResponse> RunStream { get; } =
        new(MethodType.DuplexStreaming, Service, "RunStream", PooledMarshallers.RunStreamRequest, PooledMarshallers.RunStreamResponse);

    public static Method<EchoRequest, EchoResponse> Echo { get; } =
        new(MethodType.Unary, Service, "Echo", PooledMarshallers.EchoRequest, PooledMarshallers.EchoResponse);

    public static Method<EchoRequest, EchoResponse> EchoStream { get; } =
        new(MethodType.DuplexStreaming, Service, "EchoStream", PooledMarshallers.EchoRequest, PooledMarshallers.EchoResponse);
}
