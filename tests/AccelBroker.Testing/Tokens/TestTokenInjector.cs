using System.Collections.Concurrent;
using AccelBroker.Hosting.Tokens;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Tests.Tokens;

/// <summary>
/// Gives a raw test client of an agent the token each call needs, as the broker would have handed it out: a control
/// token for AgentControl, an operator token for BenchmarkLocal and GetAgentInfo, a slice token for the slice a
/// request names (or <paramref name="defaultSlice"/> for calls that name none: uploads, echo, streaming runs), and an
/// operator token for the model store when there is no default slice. Tests of the refusals call without it.
/// </summary>
public sealed class TestTokenInjector(Func<AccessScope, string?, string> mint, string? defaultSlice = null) : Interceptor
{
    private const string ControlService = "accelbroker.v1.AgentControl";

    private readonly ConcurrentDictionary<(AccessScope, string?), string> _tokens = new();

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, With(context, request));

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, With(context, request));

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, With(context, request));

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(With(context, request: null));

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(With(context, request: null));

    private ClientInterceptorContext<TRequest, TResponse> With<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, object? request)
        where TRequest : class
        where TResponse : class
    {
        if (context.Options.Headers?.Get("authorization") is not null)
        {
            // The test chose its own credential.
            return context;
        }

        (AccessScope Scope, string? Slice)? wanted = Wanted(context.Method, request);
        if (wanted is not { } w)
        {
            return context;
        }

        string token = _tokens.GetOrAdd(w, key => mint(key.Item1, key.Item2));
        var headers = new Metadata();
        foreach (Metadata.Entry entry in context.Options.Headers ?? [])
        {
            headers.Add(entry);
        }

        headers.Add("authorization", "Bearer " + token);
        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
    }

    private (AccessScope, string?)? Wanted(IMethod method, object? request)
    {
        if (method.ServiceName == ControlService)
        {
            return (AccessScope.Control, null);
        }

        switch (method.Name)
        {
            case "BenchmarkLocal" or "GetAgentInfo":
                return (AccessScope.Operator, null);
            case "HasModel" or "UploadModel":
                return defaultSlice is null ? (AccessScope.Operator, null) : (AccessScope.Slice, defaultSlice);
        }

        string? slice = request is IMessage message && message.Descriptor.FindFieldByName("slice_id") is { } field
            ? field.Accessor.GetValue(message) as string
            : null;
        slice = string.IsNullOrEmpty(slice) ? defaultSlice : slice;
        return slice is null ? null : (AccessScope.Slice, slice);
    }
}
