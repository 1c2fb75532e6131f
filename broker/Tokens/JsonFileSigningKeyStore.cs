using System.Security.Cryptography;
using AccelBroker.Broker.Internal;

namespace AccelBroker.Broker.Tokens;

/// <summary>
/// Keeps the signing keys in <c>signing-keys.json</c> in the data directory, so a restarted broker still verifies the
/// tokens it issued. Private keys: written owner-only (0600) and atomically by <see cref="PrivateJsonFile{T}"/>.
/// </summary>
internal sealed class JsonFileSigningKeyStore(string dataDir) : ISigningKeyStore
{
    public const string FileName = "signing-keys.json";

    private readonly PrivateJsonFile<SigningKeysDocument> _file = new(dataDir, FileName, BrokerJsonContext.Default.SigningKeysDocument);

    public string FilePath => _file.FilePath;

    public IReadOnlyList<SigningKey> Load()
    {
        if (_file.Load() is not { } document)
        {
            return [];
        }

        if (document.Version != SigningKeysDocument.CurrentVersion)
        {
            throw new BrokerConfigurationException(
                $"signing keys file '{FilePath}' has version {document.Version}; this broker reads version {SigningKeysDocument.CurrentVersion}");
        }

        var keys = new List<SigningKey>(document.Keys.Count);
        foreach (SigningKeyEntry entry in document.Keys)
        {
            if (string.IsNullOrEmpty(entry.Kid))
            {
                throw new BrokerConfigurationException($"signing keys file '{FilePath}' has a key without a kid");
            }

            keys.Add(new SigningKey(entry.Kid, Import(entry), entry.CreatedAt, entry.RetiredAt, entry.NotAfter));
        }

        return keys;
    }

    public void Save(IReadOnlyList<SigningKey> keys) =>
        _file.Save(new SigningKeysDocument(
            SigningKeysDocument.CurrentVersion,
            [.. keys.Select(k => new SigningKeyEntry(k.Kid, k.Key.ExportPkcs8PrivateKeyPem(), k.CreatedAt, k.RetiredAt, k.NotAfter))]));

    private ECDsa Import(SigningKeyEntry entry)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(entry.PrivateKeyPem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            // The message names the key, never its material.
            throw new BrokerConfigurationException($"signing keys file '{FilePath}': key {entry.Kid} is not a PKCS#8 PEM private key");
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new BrokerConfigurationException($"signing keys file '{FilePath}': key {entry.Kid} is not a P-256 key");
        }

        return key;
    }
}
