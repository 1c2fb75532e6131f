using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Client.Internal;

/// <summary>
/// Adds an <c>authorization</c> header to every call it intercepts, replacing any the call set. A header rather than
/// CallCredentials: those are sent only over TLS, and loopback fleets speak h2c. A call with no headers of its own
/// gets the credential's prebuilt headers, so the hot path allocates nothing for it.
/// </summary>
internal abstract class HeaderCredential : Interceptor
{
    /// <summary>The header to send now.</summary>
    protected abstract Metadata.Entry Entry { get; }

    /// <summary>Headers holding only <see cref="Entry"/>, shared by every call that sets none.</summary>
    protected abstract Metadata Headers { get; }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, With(context));

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, With(context));

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, With(context));

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(With(context));

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(With(context));

    // The credential must not surface through a debugger display or a log of the interceptor list.
    public override string ToString() => GetType().Name;

    private ClientInterceptorContext<TRequest, TResponse> With<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class
        where TResponse : class
    {
        Metadata headers;
        if (context.Options.Headers is not { Count: > 0 } existing)
        {
            headers = Headers;
        }
        else
        {
            headers = [];
            foreach (Metadata.Entry entry in existing)
            {
                if (!entry.Key.Equals("authorization", StringComparison.OrdinalIgnoreCase))
                {
                    headers.Add(entry);
                }
            }

            headers.Add(Entry);
        }

        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
    }
}
