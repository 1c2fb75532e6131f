namespace AccelBroker.Broker.Enrollment;

/// <summary>An enrolment token as stored: its public id and the SHA-256 of the whole token, never the token.</summary>
internal sealed record EnrollmentTokenRecord(
    string Id,
    string Hash,
    string AgentName,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    bool Reusable,
    DateTimeOffset? UsedAt);
