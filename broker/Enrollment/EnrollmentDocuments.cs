namespace AccelBroker.Broker.Enrollment;

/// <summary>The contents of <c>enrollment-tokens.json</c>.</summary>
internal sealed record EnrollmentTokensDocument(int Version, IReadOnlyList<EnrollmentTokenRecord> Tokens)
{
    public const int CurrentVersion = 1;
}

/// <summary>The contents of <c>agent-credentials.json</c>.</summary>
internal sealed record AgentCredentialsDocument(int Version, IReadOnlyList<AgentCredentialRecord> Credentials)
{
    public const int CurrentVersion = 1;
}
