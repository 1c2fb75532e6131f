using System.Security.Cryptography;
using System.Text.Json;
using AccelBroker.Broker.Internal;

namespace AccelBroker.Broker.Tokens;

/// <summary>
/// Keeps the signing keys in <c>signing-keys.json</c> (mode 0600) in the data directory, so a restarted broker
/// still verifies the tokens it issued. A save writes a temporary file and moves it over the old one.
/// </summary>
internal sealed class JsonFileSigningKeyStore : ISigningKeyStore
{
    public const string FileName = "signing-keys.json";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public JsonFileSigningKeyStore(string dataDir)
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

    public IReadOnlyList<SigningKey> Load()
    {
        if (!File.Exists(FilePath))
        {
            return [];
        }

        SigningKeysDocument? document;
        try
        {
            using FileStream stream = File.OpenRead(FilePath);
            document = JsonSerializer.Deserialize(stream, BrokerJsonContext.Default.SigningKeysDocument);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BrokerConfigurationException($"signing keys file '{FilePath}' cannot be read: {ex.Message}", ex);
        }
        catch (JsonException ex)
        {
            // The exception text may quote the file; keep key material out of the message.
            throw new BrokerConfigurationException($"signing keys file '{FilePath}' is not valid JSON (line {ex.LineNumber})");
        }

        if (document is null || document.Version != SigningKeysDocument.CurrentVersion)
        {
            throw new BrokerConfigurationException(
                $"signing keys file '{FilePath}' has version {document?.Version}; this broker reads version {SigningKeysDocument.CurrentVersion}");
        }

        var keys = new List<SigningKey>(document.Keys.Count);
        foreach (SigningKeyEntry entry in document.Keys)
        {
            if (string.IsNullOrEmpty(entry.Kid))
            {
                throw new BrokerConfigurationException($"signing keys file '{FilePath}' has a key without a kid");
            }

            var key = ECDsa.Create();
            try
            {
                key.ImportFromPem(entry.PrivateKeyPem);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                key.Dispose();
                throw new BrokerConfigurationException($"signing keys file '{FilePath}': key {entry.Kid} is not a PKCS#8 PEM private key");
            }

            if (key.KeySize != 256)
            {
                key.Dispose();
                throw new BrokerConfigurationException($"signing keys file '{FilePath}': key {entry.Kid} is not a P-256 key");
            }

            keys.Add(new SigningKey(entry.Kid, key, entry.CreatedAt, entry.RetiredAt, entry.NotAfter));
        }

        return keys;
    }

    public void Save(IReadOnlyList<SigningKey> keys)
    {
        var document = new SigningKeysDocument(
            SigningKeysDocument.CurrentVersion,
            [.. keys.Select(k => new SigningKeyEntry(k.Kid, k.Key.ExportPkcs8PrivateKeyPem(), k.CreatedAt, k.RetiredAt, k.NotAfter))]);
        string temporary = $"{FilePath}.{Guid.NewGuid():N}.tmp";
        try
        {
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                // Created owner-only, so the private keys are never readable by others, not even briefly.
                fileOptions.UnixCreateMode = OwnerOnly;
            }

            using (var stream = new FileStream(temporary, fileOptions))
            {
                JsonSerializer.Serialize(stream, document, BrokerJsonContext.Default.SigningKeysDocument);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, FilePath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only a stray temporary file is left; the next save writes a new one.
        }
    }
}
