using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Client.Internal;

/// <summary>
/// Adds <c>authorization: Bearer …</c> to every call it intercepts. A header rather than CallCredentials: those are
/// sent only over TLS, and loopback fleets speak h2c. Carries an API key or host credential to the broker only (an
/// agent never sees one), or a broker-signed access token to an agent.
/// </summary>
internal sealed class BearerCredential(string secret) : Interceptor
{
    private readonly string _value = "Bearer " + secret;

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

    /// <summary>The interceptors of a client: the caller's, then the credential when there is one.</summary>
    public static Interceptor[] Around(IReadOnlyList<Interceptor> interceptors, string? secret) =>
        string.IsNullOrEmpty(secret) ? [.. interceptors] : [.. interceptors, new BearerCredential(secret)];

    private ClientInterceptorContext<TRequest, TResponse> With<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class
        where TResponse : class
    {
        var headers = new Metadata();
        if (context.Options.Headers is { } existing)
        {
            foreach (Metadata.Entry entry in existing)
            {
                if (!entry.Key.Equals("authorization", StringComparison.OrdinalIgnoreCase))
                {
                    headers.Add(entry);
                }
            }
        }

        headers.Add("authorization", _value);
        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
    }

    // The secret must not surface through a debugger display or a log of the interceptor list.
    public override string ToString() => nameof(BearerCredential);
}
