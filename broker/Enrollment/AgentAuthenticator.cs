using AccelBroker.Broker.Security;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Broker.Enrollment;

/// <summary>
/// Authenticates the agent-side Broker calls: RegisterAgent and Heartbeat need <c>authorization: Bearer aba_...</c>,
/// a live credential of the request's agent; EnrollAgent needs an enrolment token, checked (and consumed) by the call itself.
/// </summary>
internal sealed class AgentAuthenticator(EnrollmentBook book)
{
    public static readonly string RegisterAgentMethod = MethodName(nameof(Protocol.V1.Broker.BrokerBase.RegisterAgent));
    public static readonly string HeartbeatMethod = MethodName(nameof(Protocol.V1.Broker.BrokerBase.Heartbeat));
    public static readonly string EnrollAgentMethod = MethodName(nameof(Protocol.V1.Broker.BrokerBase.EnrollAgent));

    /// <summary>Whether <paramref name="method"/> (a full gRPC method name) is one this authenticator answers for.</summary>
    public static bool Covers(string method) =>
        method == RegisterAgentMethod || method == HeartbeatMethod || method == EnrollAgentMethod;

    /// <summary>The caller of <paramref name="method"/> with <paramref name="request"/>.</summary>
    /// <exception cref="DomainException">
    /// Unauthenticated (no, unknown or revoked credential), PermissionDenied (another agent's credential),
    /// InvalidInput (not an agent-side method).
    /// </exception>
    public AgentPrincipal Authenticate(ServerCallContext context, string method, object request)
    {
        string? bearer = BrokerAuthorization.BearerOf(context);
        if (method == EnrollAgentMethod)
        {
            // The token's id is public; the secret is checked and the token consumed atomically by EnrollAgent.
            string? tokenId = PrefixedSecret.TryGetId(bearer, PrefixedSecret.EnrollmentPrefix)
                ?? throw DomainException.Unauthenticated("EnrollAgent needs 'authorization: Bearer abe_...' with an enrolment token");
            return new AgentPrincipal(string.Empty, string.Empty, tokenId);
        }

        string requestedAgentId = request switch
        {
            RegisterAgentRequest register => register.AgentId,
            HeartbeatRequest heartbeat => heartbeat.AgentId,
            _ => throw DomainException.Invalid($"'{method}' is not called by agents"),
        };

        if (bearer is null)
        {
            throw DomainException.Unauthenticated(
                "agents must send 'authorization: Bearer aba_...' with their credential; enrol with --enrollment-token-file");
        }

        AgentCredentialRecord credential = book.FindLive(bearer)
            ?? throw DomainException.Unauthenticated("agent credential is unknown or revoked; enrol the agent again");

        // An empty id on registration means "the id I was enrolled under".
        if (requestedAgentId.Length > 0 && requestedAgentId != credential.AgentId)
        {
            throw DomainException.PermissionDenied(
                $"the credential of agent '{credential.AgentId}' may not act for agent '{requestedAgentId}'");
        }

        book.MarkSeen(credential.Id);
        return new AgentPrincipal(credential.AgentId, credential.AgentName, credential.Id);
    }

    private static string MethodName(string rpc) => $"/{Protocol.V1.Broker.Descriptor.FullName}/{rpc}";
}
