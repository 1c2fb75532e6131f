using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Security;

namespace AccelBroker.Broker.Storage.Import;

/// <summary><c>api-keys.json</c>, where brokers before broker.db kept API keys (hashes only).</summary>
internal static class LegacyApiKeysFile
{
    public const string FileName = "api-keys.json";

    /// <exception cref="BrokerConfigurationException">The file cannot be read or is not valid.</exception>
    public static IReadOnlyList<ApiKeyRecord>? Read(string path)
    {
        if (LegacyJsonFile.Read(path, BrokerJsonContext.Default.ApiKeysDocument) is not { } document)
        {
            return null;
        }

        LegacyJsonFile.CheckVersion(path, document.Version, ApiKeysDocument.CurrentVersion);
        if (ApiKeyChecks.FindProblem(document.Keys) is { } problem)
        {
            throw new BrokerConfigurationException($"API key file '{path}' is not valid: {problem}");
        }

        return document.Keys;
    }
}
