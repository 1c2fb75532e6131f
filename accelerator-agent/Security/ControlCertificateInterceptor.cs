using AccelBroker.Hosting.Startup;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Agent.Security;

/// <summary>
/// For AgentControl calls only: with <c>--client-ca-file</c>, a call must come over a connection whose client
/// certificate chained to that CA (the broker's), so a client host cannot assign or release slices. Runs before the
/// token check, so a connection that may not control the agent is refused before any token is looked at; every call
/// shape is covered, so a control RPC added later is not left open. InferenceAgent calls pass untouched.
/// </summary>
internal sealed class ControlCertificateInterceptor(ClientCertificateRequirement requirement) : Interceptor
{
    private const string Service = "AgentControl";
    private static readonly string ControlMethods = $"/{AgentControl.Descriptor.FullName}/";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        if (context.Method.StartsWith(ControlMethods, StringComparison.Ordinal))
        {
            requirement.Check(context, Service);
        }
    }
}
