using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Placement;
using AccelBroker.Broker.Internal;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Enrollment;

/// <summary>The enrolment RPCs' logic: tokens, enrolment, listing and revocation, with their audit events.</summary>
internal sealed class AgentEnrollment(EnrollmentBook book, AgentRegistry registry, SliceRelocator relocator, ILogger<AgentEnrollment> logger)
{
    /// <summary>Creates an enrolment token. In-process callers (loopback fixtures) use this directly.</summary>
    public CreateEnrollmentResponse Create(string name, TimeSpan? ttl, bool reusable)
    {
        (EnrollmentTokenRecord record, string token) = book.CreateToken(name, ttl, reusable);
        BrokerLog.EnrollmentCreated(logger, record.Id, record.AgentName, record.ExpiresAt, record.Reusable);
        return new() { Token = token, TokenId = record.Id, ExpiresAt = Timestamp.FromDateTimeOffset(record.ExpiresAt) };
    }

    public EnrollAgentResponse Enroll(string? token)
    {
        try
        {
            (AgentCredentialRecord record, string credential, EnrollmentTokenRecord used) = book.Enroll(token);
            BrokerLog.AgentEnrolled(logger, record.AgentId, record.AgentName, used.Id, record.Id);
            return new() { AgentId = record.AgentId, Credential = credential, Name = record.AgentName };
        }
        catch (DomainException ex) when (ex.Kind == DomainErrorKind.Unauthenticated)
        {
            BrokerLog.EnrollmentRefused(logger, PrefixedSecret.TryGetId(token, PrefixedSecret.EnrollmentPrefix) ?? "(malformed)");
            throw;
        }
    }

    public ListEnrolledAgentsResponse List()
    {
        var response = new ListEnrolledAgentsResponse();
        response.Agents.AddRange(book.Agents().Select(ToProto));
        return response;
    }

    /// <summary>
    /// Revokes the agent at once: its next call is refused and it leaves placement. Its slices move to healthy agents
    /// with room (same host and ordinal); those that find none show as unhealthy until they are detached.
    /// </summary>
    public async Task<RevokeAgentResponse> RevokeAsync(string agentId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(agentId))
        {
            throw DomainException.Invalid("agent_id is required; see 'accel agents list'");
        }

        AgentCredentialRecord revoked = book.Revoke(agentId);
        registry.Remove(agentId);
        (int moved, int stranded) = await relocator.MoveOffAsync(agentId, ct);
        BrokerLog.AgentRevoked(logger, revoked.AgentId, revoked.AgentName, revoked.Id, moved, stranded);
        return new() { Agent = ToProto(revoked), SlicesMoved = moved, SlicesStranded = stranded };
    }

    private static EnrolledAgent ToProto(AgentCredentialRecord record)
    {
        var agent = new EnrolledAgent
        {
            AgentId = record.AgentId,
            Name = record.AgentName,
            CreatedAt = Timestamp.FromDateTimeOffset(record.CreatedAt),
            CredentialId = record.Id,
        };
        if (record.LastSeen is { } seen)
        {
            agent.LastSeen = Timestamp.FromDateTimeOffset(seen);
        }

        if (record.RevokedAt is { } revokedAt)
        {
            agent.RevokedAt = Timestamp.FromDateTimeOffset(revokedAt);
        }

        return agent;
    }
}
