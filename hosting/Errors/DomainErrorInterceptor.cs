using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Hosting.Errors;

/// <summary>
/// The one place a host's domain failures become gRPC status: every call shape is wrapped, and a
/// <see cref="DomainException"/> leaving a handler is answered with its kind's code and its message. Anything
/// else passes through unchanged (gRPC answers an unexpected exception with Unknown and no detail).
/// </summary>
public sealed class DomainErrorInterceptor : Interceptor
{
    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (DomainException ex)
        {
            throw DomainErrorStatus.ToRpcException(ex);
        }
    }

    /// <inheritdoc />
    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        catch (DomainException ex)
        {
            throw DomainErrorStatus.ToRpcException(ex);
        }
    }

    /// <inheritdoc />
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (DomainException ex)
        {
            throw DomainErrorStatus.ToRpcException(ex);
        }
    }

    /// <inheritdoc />
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
        }
        catch (DomainException ex)
        {
            throw DomainErrorStatus.ToRpcException(ex);
        }
    }
}
