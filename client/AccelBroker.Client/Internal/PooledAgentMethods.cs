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
    // Names from the generated service, so these stay the calls the generated client makes.
    private static readonly string Service = InferenceAgent.Descriptor.FullName;

    public static Method<RunRequest, RunResponse> Run { get; } =
        new(MethodType.Unary, Service, nameof(InferenceAgent.InferenceAgentClient.Run), PooledMarshallers.RunRequest, PooledMarshallers.RunResponse);

    public static Method<RunStreamRequest, RunStreamResponse> RunStream { get; } =
        new(MethodType.DuplexStreaming, Service, nameof(InferenceAgent.InferenceAgentClient.RunStream), PooledMarshallers.RunStreamRequest, PooledMarshallers.RunStreamResponse);

    public static Method<EchoRequest, EchoResponse> Echo { get; } =
        new(MethodType.Unary, Service, nameof(InferenceAgent.InferenceAgentClient.Echo), PooledMarshallers.EchoRequest, PooledMarshallers.EchoResponse);

    public static Method<EchoRequest, EchoResponse> EchoStream { get; } =
        new(MethodType.DuplexStreaming, Service, nameof(InferenceAgent.InferenceAgentClient.EchoStream), PooledMarshallers.EchoRequest, PooledMarshallers.EchoResponse);
}
