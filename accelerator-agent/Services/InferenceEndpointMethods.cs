using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace AccelBroker.Agent.Services;

/// <summary>
/// Binds every method of the generated <see cref="InferenceAgent"/> service to <see cref="InferenceAgentService"/>,
/// with the generated descriptions except for the run and echo calls, whose tensor bytes are received into pooled
/// arrays (<see cref="PooledMarshallers"/>). Same service, method names and wire format as the generated binding.
/// </summary>
internal sealed class InferenceEndpointMethods(IServiceProvider services) : IServiceMethodProvider<InferenceEndpoint>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<InferenceEndpoint> context) =>
        InferenceAgent.BindService(new Binder(context), services.GetRequiredService<InferenceAgentService>());

    private static Method<TRequest, TResponse> Pooled<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        Marshaller<TRequest>? request = PooledMarshaller<TRequest>();
        Marshaller<TResponse>? response = PooledMarshaller<TResponse>();
        return request is null && response is null
            ? method
            : new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, request ?? method.RequestMarshaller, response ?? method.ResponseMarshaller);
    }

    private static Marshaller<T>? PooledMarshaller<T>()
        where T : class =>
        (typeof(T) == typeof(RunRequest) ? PooledMarshallers.RunRequest
            : typeof(T) == typeof(RunResponse) ? PooledMarshallers.RunResponse
            : typeof(T) == typeof(RunStreamRequest) ? PooledMarshallers.RunStreamRequest
            : typeof(T) == typeof(RunStreamResponse) ? PooledMarshallers.RunStreamResponse
            : typeof(T) == typeof(EchoRequest) ? PooledMarshallers.EchoRequest
            : typeof(T) == typeof(EchoResponse) ? PooledMarshallers.EchoResponse
            : (object?)null) as Marshaller<T>;

    // What grpc-dotnet's own binder gives each method: POST, and CORS preflight let through to gRPC's answer.
    private static List<object> Metadata() => [new HttpMethodMetadata(["POST"], acceptCorsPreflight: true)];

    private sealed class Binder(ServiceMethodProviderContext<InferenceEndpoint> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Pooled(method), Metadata(), (_, request, call) => handler!(request, call));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Pooled(method), Metadata(), (_, requests, call) => handler!(requests, call));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Pooled(method), Metadata(), (_, request, responses, call) => handler!(request, responses, call));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Pooled(method), Metadata(), (_, requests, responses, call) => handler!(requests, responses, call));
    }
}
