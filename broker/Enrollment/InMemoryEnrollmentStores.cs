namespace AccelBroker.Broker.Enrollment;

/// <summary>Keeps enrolment tokens for the life of the process only (no <c>--data-dir</c>).</summary>
internal sealed class InMemoryEnrollmentTokenStore : IEnrollmentTokenStore
{
    private IReadOnlyList<EnrollmentTokenRecord> _tokens = [];

    public IReadOnlyList<EnrollmentTokenRecord> Load() => Volatile.Read(ref _tokens);

    public void Save(IReadOnlyList<EnrollmentTokenRecord> tokens) => Volatile.Write(ref _tokens, [.. tokens]);
}

/// <summary>Keeps agent credentials for the life of the process only (no <c>--data-dir</c>).</summary>
internal sealed class InMemoryAgentCredentialStore : IAgentCredentialStore
{
    private IReadOnlyList<AgentCredentialRecord> _credentials = [];

    public IReadOnlyList<AgentCredentialRecord> Load() => Volatile.Read(ref _credentials);

    public void Save(IReadOnlyList<AgentCredentialRecord> credentials) => Volatile.Write(ref _credentials, [.. credentials]);
}
