using AccelBroker.Hosting.Startup;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Agent.Services;

/// <summary>
/// Over AgentControl only: with <c>--client-ca-file</c>, a call must come over a connection whose client certificate
/// chained to that CA (the broker's), so a client host cannot assign or release slices. Every call shape is covered,
/// so a control RPC added later is not left open.
/// </summary>
internal sealed class ControlCertificateInterceptor(ClientCertificateRequirement requirement) : Interceptor
{
    private const string Service = "AgentControl";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        requirement.Check(context, Service);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        requirement.Check(context, Service);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        requirement.Check(context, Service);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        requirement.Check(context, Service);
        return continuation(requestStream, responseStream, context);
    }
}
