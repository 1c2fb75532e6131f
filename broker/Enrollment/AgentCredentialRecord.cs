namespace AccelBroker.Broker.Enrollment;

/// <summary>An enrolled agent's credential as stored: its public id and the SHA-256 of the whole credential.</summary>
internal sealed record AgentCredentialRecord(
    string Id,
    string Hash,
    string AgentId,
    string AgentName,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? LastSeen);
