using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Registration;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Hosting.Tokens;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Security;

/// <summary>
/// The one gate in front of every agent method: the caller's broker-signed token (<c>authorization: Bearer</c>) is
/// verified offline, its scope checked against the method's rule in <see cref="AgentPolicy"/>, a slice token's slice
/// must be held here, and a request (or streamed message) naming another slice is refused. Runs inside the error
/// mapping, so refusals are Unauthenticated or PermissionDenied; the grant is left in the call's user state.
/// </summary>
internal sealed class AgentAuthorization(
    AgentPolicy policy, AccessTokenVerifier verifier, AgentIdentity identity, SliceRegistry slices, BrokerLease lease, ILogger<AgentAuthorization> logger) : Interceptor
{
    private const string GrantKey = "accel.grant";

    private volatile bool _verifying = true;

    /// <summary>
    /// Whether unary calls are checked (always, outside the benchmark): the auth benchmark turns checking off between
    /// its blocks on one agent and one session to measure what checking costs. Internal, and on no command line.
    /// </summary>
    internal bool Verifying
    {
        get => _verifying;
        set => _verifying = value;
    }

    /// <summary>The grant admitted for this call; <see langword="null"/> outside an authorized call (in-process tests).</summary>
    public static AccessGrant? GrantOf(ServerCallContext context) =>
        context.UserState.TryGetValue(GrantKey, out object? grant) ? grant as AccessGrant : null;

    /// <summary>Refuses a request that names a slice other than a slice token's.</summary>
    public static void CheckSlice(AccessGrant grant, string? requested)
    {
        if (grant.Scope == AccessScope.Slice && !string.IsNullOrEmpty(requested) && !string.Equals(requested, grant.SliceId, StringComparison.Ordinal))
        {
            throw DomainException.PermissionDenied($"the token is for slice '{grant.SliceId}'; this request names slice '{requested}'");
        }
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!_verifying)
        {
            return await continuation(request, context);
        }

        if (await AdmitAsync(context) is not { } grant)
        {
            return await continuation(request, context);
        }

        Check(context, grant, request);
        TResponse response = await continuation(request, context);
        // Checked again on the way out: an agent frozen mid-call must not answer once it is fenced, nor once a heartbeat
        // answer has taken the slice away (it moved meanwhile), so no client hears from it after the move.
        if (grant.Scope == AccessScope.Slice)
        {
            CheckPlacement(context, grant);
        }

        return response;
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        AccessGrant? grant = await AdmitAsync(context);
        return await continuation(grant is null ? requestStream : new SliceScopedReader<TRequest>(requestStream, grant), context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (await AdmitAsync(context) is { } grant)
        {
            Check(context, grant, request);
        }

        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        AccessGrant? grant = await AdmitAsync(context);
        await continuation(grant is null ? requestStream : new SliceScopedReader<TRequest>(requestStream, grant), responseStream, context);
    }

    private void Check(ServerCallContext context, AccessGrant grant, object request)
    {
        try
        {
            CheckSlice(grant, SliceScope.Of(request));
        }
        catch (DomainException refusal)
        {
            throw Refuse(context, refusal);
        }
    }

    // Null for an open method, which needs no grant.
    private async ValueTask<AccessGrant?> AdmitAsync(ServerCallContext context)
    {
        string method = context.Method;
        string name = method[(method.LastIndexOf('/') + 1)..];
        AgentAccessRule rule = policy.RuleFor(method) ?? throw Refuse(context, DomainException.PermissionDenied($"{method} is not open to anyone"));
        if (rule.IsOpen)
        {
            return null;
        }

        ReadOnlyMemory<char> bearer = BearerHeader.Of(context);
        if (bearer.IsEmpty)
        {
            throw Refuse(context, DomainException.Unauthenticated(
                $"{name} needs {rule.Description} (authorization: Bearer …): the broker's ResolveAccelerator gives slice tokens, IssueAgentToken operator tokens"));
        }

        string agentId = identity.AgentId;
        if (agentId.Length == 0)
        {
            throw Refuse(context, DomainException.Unauthenticated("this agent has not registered with its broker yet, so it accepts no token; retry shortly"));
        }

        AccessGrant grant;
        try
        {
            grant = await verifier.VerifyAsync(bearer, agentId);
        }
        catch (DomainException refusal)
        {
            throw Refuse(context, refusal);
        }

        if (!rule.Admits(grant.Scope))
        {
            throw Refuse(context, DomainException.PermissionDenied($"{name} needs {rule.Description}; the caller holds a {AccessTokenFormat.NameOf(grant.Scope)} token"));
        }

        if (grant.Scope == AccessScope.Slice)
        {
            CheckPlacement(context, grant);
        }

        context.UserState[GrantKey] = grant;
        return grant;
    }

    // FailedPrecondition and Unavailable tell the client library to resolve the accelerator again, not to give up.
    private void CheckPlacement(ServerCallContext context, AccessGrant grant)
    {
        if (!slices.TryGet(grant.SliceId!, out AcceleratorSlice? held))
        {
            throw Refuse(context, DomainException.Precondition(
                $"slice '{grant.SliceId}' is not held by this agent (detached, or moved to another agent); resolve the accelerator again"));
        }

        long epoch = held.Assignment.Epoch;
        if (grant.Epoch != 0 && epoch != 0 && grant.Epoch != epoch)
        {
            throw Refuse(context, DomainException.Precondition(
                $"the token is for epoch {grant.Epoch} of slice '{grant.SliceId}', which this agent holds at epoch {epoch}; resolve the accelerator again"));
        }

        if (lease.IsFenced)
        {
            throw Refuse(context, FencedRefusal());
        }
    }

    private DomainException FencedRefusal() => DomainException.Unavailable(
        $"this agent has not completed a heartbeat for {lease.SilentFor.TotalSeconds:0.#} s (frozen or starved), so its slices may have moved; resolve the accelerator again");

    private DomainException Refuse(ServerCallContext context, DomainException refusal)
    {
        AgentLog.CallRefused(logger, context.Method, context.Peer, refusal.Message);
        return refusal;
    }
}
