using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Internal;

namespace AccelBroker.Broker.Storage.Import;

/// <summary>
/// <c>enrollment-tokens.json</c> and <c>agent-credentials.json</c>, where brokers before broker.db kept enrolment
/// (hashes only).
/// </summary>
internal static class LegacyEnrollmentFiles
{
    public const string TokensFileName = "enrollment-tokens.json";
    public const string CredentialsFileName = "agent-credentials.json";

    /// <exception cref="BrokerConfigurationException">The file cannot be read or is not valid.</exception>
    public static IReadOnlyList<EnrollmentTokenRecord>? ReadTokens(string path)
    {
        if (LegacyJsonFile.Read(path, BrokerJsonContext.Default.EnrollmentTokensDocument) is not { } document)
        {
            return null;
        }

        LegacyJsonFile.CheckVersion(path, document.Version, EnrollmentTokensDocument.CurrentVersion);
        return document.Tokens;
    }

    /// <exception cref="BrokerConfigurationException">The file cannot be read or is not valid.</exception>
    public static IReadOnlyList<AgentCredentialRecord>? ReadCredentials(string path)
    {
        if (LegacyJsonFile.Read(path, BrokerJsonContext.Default.AgentCredentialsDocument) is not { } document)
        {
            return null;
        }

        LegacyJsonFile.CheckVersion(path, document.Version, AgentCredentialsDocument.CurrentVersion);
        return document.Credentials;
    }
}
