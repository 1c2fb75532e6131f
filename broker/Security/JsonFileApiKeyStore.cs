using System.Text.Json;
using AccelBroker.Broker.Internal;

namespace AccelBroker.Broker.Security;

/// <summary>
/// Keeps API keys in <c>api-keys.json</c> in the data directory, readable by the broker's user only (0600): it holds
/// hashes, not secrets, but names and roles are still nobody else's business. Saved as the attachment file is: a
/// temporary file flushed to disk and moved over the old one.
/// </summary>
internal sealed class JsonFileApiKeyStore : IApiKeyStore
{
    public const string FileName = "api-keys.json";

    public JsonFileApiKeyStore(string dataDir)
    {
        try
        {
            Directory.CreateDirectory(dataDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BrokerConfigurationException($"data directory '{dataDir}' cannot be created: {ex.Message}", ex);
        }

        FilePath = Path.Combine(dataDir, FileName);
    }

    public string FilePath { get; }

    public IReadOnlyList<ApiKeyRecord> Load()
    {
        if (!File.Exists(FilePath))
        {
            return [];
        }

        ApiKeysDocument? document;
        try
        {
            using FileStream stream = File.OpenRead(FilePath);
            document = JsonSerializer.Deserialize(stream, BrokerJsonContext.Default.ApiKeysDocument);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BrokerConfigurationException($"API key file '{FilePath}' cannot be read: {ex.Message}", ex);
        }
        catch (JsonException ex)
        {
            throw new BrokerConfigurationException($"API key file '{FilePath}' is not valid: {ex.Message}", ex);
        }

        if (document is null || document.Version != ApiKeysDocument.CurrentVersion)
        {
            throw new BrokerConfigurationException(
                $"API key file '{FilePath}' has version {document?.Version}; this broker reads version {ApiKeysDocument.CurrentVersion}");
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

    public void Save(IReadOnlyList<ApiKeyRecord> keys)
    {
        string temporary = $"{FilePath}.{Guid.NewGuid():N}.tmp";
        try
        {
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                // Created private rather than narrowed after: no moment where another user could open it.
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, create))
            {
                JsonSerializer.Serialize(stream, new ApiKeysDocument(ApiKeysDocument.CurrentVersion, keys), BrokerJsonContext.Default.ApiKeysDocument);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, FilePath, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Only a stray temporary file is left.
            }

            throw;
        }
    }
}
