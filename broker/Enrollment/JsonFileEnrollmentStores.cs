using AccelBroker.Broker.Internal;

namespace AccelBroker.Broker.Enrollment;

/// <summary>Keeps enrolment tokens (hashes only) in <c>enrollment-tokens.json</c> in the data directory, mode 0600.</summary>
internal sealed class JsonFileEnrollmentTokenStore(string dataDir) : IEnrollmentTokenStore
{
    public const string FileName = "enrollment-tokens.json";

    private readonly PrivateJsonFile<EnrollmentTokensDocument> _file = new(dataDir, FileName, BrokerJsonContext.Default.EnrollmentTokensDocument);

    public IReadOnlyList<EnrollmentTokenRecord> Load()
    {
        EnrollmentTokensDocument? document = _file.Load();
        if (document is not null && document.Version != EnrollmentTokensDocument.CurrentVersion)
        {
            throw new BrokerConfigurationException(
                $"file '{_file.FilePath}' has version {document.Version}; this broker reads version {EnrollmentTokensDocument.CurrentVersion}");
        }

        return document?.Tokens ?? [];
    }

    public void Save(IReadOnlyList<EnrollmentTokenRecord> tokens) =>
        _file.Save(new EnrollmentTokensDocument(EnrollmentTokensDocument.CurrentVersion, tokens));
}

/// <summary>Keeps agent credentials (hashes only) in <c>agent-credentials.json</c> in the data directory, mode 0600.</summary>
internal sealed class JsonFileAgentCredentialStore(string dataDir) : IAgentCredentialStore
{
    public const string FileName = "agent-credentials.json";

    private readonly PrivateJsonFile<AgentCredentialsDocument> _file = new(dataDir, FileName, BrokerJsonContext.Default.AgentCredentialsDocument);

    public IReadOnlyList<AgentCredentialRecord> Load()
    {
        AgentCredentialsDocument? document = _file.Load();
        if (document is not null && document.Version != AgentCredentialsDocument.CurrentVersion)
        {
            throw new BrokerConfigurationException(
                $"file '{_file.FilePath}' has version {document.Version}; this broker reads version {AgentCredentialsDocument.CurrentVersion}");
        }

        return document?.Credentials ?? [];
    }

    public void Save(IReadOnlyList<AgentCredentialRecord> credentials) =>
        _file.Save(new AgentCredentialsDocument(AgentCredentialsDocument.CurrentVersion, credentials));
}
