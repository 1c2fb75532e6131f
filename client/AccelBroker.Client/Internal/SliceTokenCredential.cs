using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Client.Internal;

/// <summary>
/// Adds the session's current slice token to every agent call. A call with no headers of its own reuses the token's
/// prebuilt headers, so the hot path allocates nothing for it.
/// </summary>
internal sealed class SliceTokenCredential(SliceTokenSource source) : Interceptor
{
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

    private ClientInterceptorContext<TRequest, TResponse> With<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class
        where TResponse : class
    {
        Metadata headers;
        if (context.Options.Headers is not { Count: > 0 } existing)
        {
            headers = source.Headers;
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

            headers.Add(source.Entry);
        }

        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
    }

    public override string ToString() => nameof(SliceTokenCredential);
}
