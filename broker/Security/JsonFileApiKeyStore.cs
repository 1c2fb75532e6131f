using AccelBroker.Broker.Internal;

namespace AccelBroker.Broker.Security;

/// <summary>
/// Keeps API keys in <c>api-keys.json</c> in the data directory, readable by the broker's user only (0600): it holds
/// hashes, not secrets, but names and roles are still nobody else's business. Saved atomically by
/// <see cref="PrivateJsonFile{T}"/>, as the enrolment stores are.
/// </summary>
internal sealed class JsonFileApiKeyStore(string dataDir) : IApiKeyStore
{
    public const string FileName = "api-keys.json";

    private readonly PrivateJsonFile<ApiKeysDocument> _file = new(dataDir, FileName, BrokerJsonContext.Default.ApiKeysDocument);

    public string FilePath => _file.FilePath;

    public IReadOnlyList<ApiKeyRecord> Load()
    {
        if (_file.Load() is not { } document)
        {
            return [];
        }

        if (document.Version != ApiKeysDocument.CurrentVersion)
        {
            throw new BrokerConfigurationException(
                $"API key file '{FilePath}' has version {document.Version}; this broker reads version {ApiKeysDocument.CurrentVersion}");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (ApiKeyRecord key in document.Keys)
        {
            if (key.Id.Length != SecretCodec.IdLength || key.Hash.Length == 0 || !Enum.IsDefined(key.Role) || !ids.Add(key.Id))
            {
                throw new BrokerConfigurationException($"API key file '{FilePath}' is not valid: key '{key.Id}' is malformed or appears twice");
            }
        }

        return document.Keys;
    }

    public void Save(IReadOnlyList<ApiKeyRecord> keys) => _file.Save(new ApiKeysDocument(ApiKeysDocument.CurrentVersion, keys));
}
