using System.Net.Http;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Client.Internal;

/// <summary>
/// Reports a call cut off because the server closed its HTTP/2 connection (GOAWAY with NO_ERROR: a broker or agent
/// shutting down) as <see cref="StatusCode.Unavailable"/>, as when it cannot be reached at all. grpc-dotnet reports
/// it as <see cref="StatusCode.Internal"/>, which callers read as a bug rather than something to retry elsewhere.
/// </summary>
internal sealed class ConnectionLossInterceptor : Interceptor
{
    public static readonly ConnectionLossInterceptor Instance = new();

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        AsyncUnaryCall<TResponse> call = continuation(request, context);
        return new AsyncUnaryCall<TResponse>(
            Translate(call.ResponseAsync), Translate(call.ResponseHeadersAsync), call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
        ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        AsyncClientStreamingCall<TRequest, TResponse> call = continuation(context);
        return new AsyncClientStreamingCall<TRequest, TResponse>(
            new Writer<TRequest>(call.RequestStream), Translate(call.ResponseAsync), Translate(call.ResponseHeadersAsync), call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        AsyncDuplexStreamingCall<TRequest, TResponse> call = continuation(context);
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(
            new Writer<TRequest>(call.RequestStream), new Reader<TResponse>(call.ResponseStream), Translate(call.ResponseHeadersAsync), call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        AsyncServerStreamingCall<TResponse> call = continuation(request, context);
        return new AsyncServerStreamingCall<TResponse>(
            new Reader<TResponse>(call.ResponseStream), Translate(call.ResponseHeadersAsync), call.GetStatus, call.GetTrailers, call.Dispose);
    }

    /// <summary>The <see cref="StatusCode.Unavailable"/> form of <paramref name="error"/> if the server dropped the connection, else null.</summary>
    internal static RpcException? AsUnavailable(RpcException error)
    {
        if (error.StatusCode != StatusCode.Internal)
        {
            return null;
        }

        for (Exception? inner = error.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpProtocolException { ErrorCode: 0 })
            {
                return new RpcException(new Status(StatusCode.Unavailable, $"the server closed the connection: {error.Status.Detail}", error.Status.DebugException), error.Trailers);
            }
        }

        return null;
    }

    private static async Task<T> Translate<T>(Task<T> task)
    {
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch (RpcException ex) when (AsUnavailable(ex) is { } unavailable)
        {
            throw unavailable;
        }
    }

    private sealed class Writer<T>(IClientStreamWriter<T> inner) : IClientStreamWriter<T>
    {
        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task WriteAsync(T message) => Translate(inner.WriteAsync(message));

        // The interface's default refuses a token; grpc-dotnet's writer honours it, so pass it on.
        public Task WriteAsync(T message, CancellationToken cancellationToken) => Translate(inner.WriteAsync(message, cancellationToken));

        public Task CompleteAsync() => Translate(inner.CompleteAsync());

        private static async Task Translate(Task task)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (RpcException ex) when (AsUnavailable(ex) is { } unavailable)
            {
                throw unavailable;
            }
        }
    }

    private sealed class Reader<T>(IAsyncStreamReader<T> inner) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public Task<bool> MoveNext(CancellationToken cancellationToken) => ConnectionLossInterceptor.Translate(inner.MoveNext(cancellationToken));
    }
}
