using AccelBroker.Hosting.Errors;
using AccelBroker.Hosting.Tokens;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Security;

/// <summary>
/// The one gate in front of every Broker method: finds the method's <see cref="AccessRule"/> in
/// <see cref="BrokerPolicy"/>, authenticates the bearer credential and checks role and host. Runs inside the error
/// mapping, so a refusal is an Unauthenticated or PermissionDenied status; the caller is left in the call's user
/// state for the audit log. A method with no rule is refused, never served open.
/// </summary>
internal sealed class BrokerAuthorization(BrokerPolicy policy, ApiKeyBook keys, ILogger<BrokerAuthorization> logger) : Interceptor
{
    private const string CallerKey = "accel.caller";

    /// <summary>The caller <see cref="BrokerAuthorization"/> admitted for this call; <see langword="null"/> for agents.</summary>
    public static Caller? CallerOf(ServerCallContext context) =>
        context.UserState.TryGetValue(CallerKey, out object? caller) ? caller as Caller : null;

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context, request);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context, request: null);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context, request);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context, request: null);
        return continuation(requestStream, responseStream, context);
    }

    /// <summary>The credential of an <c>authorization: Bearer …</c> header; <see langword="null"/> when there is none.</summary>
    public static string? BearerOf(ServerCallContext context) =>
        BearerHeader.Of(context) is { IsEmpty: false } bearer ? bearer.ToString() : null;

    private void Admit(ServerCallContext context, object? request)
    {
        string method = context.Method;
        AccessRule rule = policy.RuleFor(method) ?? throw Refuse(context, DomainException.PermissionDenied($"{method} is not open to anyone"));
        if (rule.Kind is AccessRuleKind.Agent or AccessRuleKind.Open)
        {
            // Agents authenticate with their enrolment credential, not with API keys; open methods not at all.
            return;
        }

        string name = method[(method.LastIndexOf('/') + 1)..];
        string? bearer = BearerOf(context);
        if (bearer is null)
        {
            throw Refuse(context, DomainException.Unauthenticated(
                $"{name} needs an API key or host credential (authorization: Bearer …); the accel CLI reads it from ACCEL_API_KEY or --api-key-file"));
        }

        Caller caller = keys.Authenticate(bearer)
            ?? throw Refuse(context, DomainException.Unauthenticated($"{name}: the credential presented is not valid (malformed, unknown or revoked)"));
        if (!caller.Holds(rule.Role))
        {
            if (caller.Role != AccessRole.Host || rule.HostOf is null)
            {
                throw Refuse(context, DomainException.PermissionDenied(
                    $"{name} needs the {Describe(rule.Role)} role; {caller} is {Describe(caller.Role)}"), caller);
            }

            string? host = request is null ? null : rule.HostOf(request);
            if (host != caller.Host)
            {
                throw Refuse(context, DomainException.PermissionDenied(
                    $"{name}: the credential of host '{caller.Host}' acts only on that host's accelerators"), caller);
            }
        }

        context.UserState[CallerKey] = caller;
    }

    private DomainException Refuse(ServerCallContext context, DomainException refusal, Caller? caller = null)
    {
        SecurityLog.CallRefused(logger, context.Method, caller?.ToString() ?? "anonymous", context.Peer, refusal.Message);
        return refusal;
    }

    private static string Describe(AccessRole role) => role switch
    {
        AccessRole.Viewer => "viewer",
        AccessRole.Operator => "operator",
        AccessRole.Admin => "admin",
        _ => "a host credential",
    };
}
