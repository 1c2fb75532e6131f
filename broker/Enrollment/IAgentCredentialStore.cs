namespace AccelBroker.Broker.Enrollment;

/// <summary>Where agent credentials are kept. Calls are serialized by <see cref="EnrollmentBook"/>.</summary>
internal interface IAgentCredentialStore
{
    IReadOnlyList<AgentCredentialRecord> Load();

    /// <summary>Replaces what is stored; all or nothing.</summary>
    void Save(IReadOnlyList<AgentCredentialRecord> credentials);
}
