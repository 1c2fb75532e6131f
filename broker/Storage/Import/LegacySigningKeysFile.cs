using System.Security.Cryptography;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Tokens;

namespace AccelBroker.Broker.Storage.Import;

/// <summary><c>signing-keys.json</c>, where brokers before broker.db kept their token signing keys (PKCS#8 PEM).</summary>
internal static class LegacySigningKeysFile
{
    public const string FileName = "signing-keys.json";

    /// <exception cref="BrokerConfigurationException">The file cannot be read or a key is not valid; the message never holds key material.</exception>
    public static IReadOnlyList<SigningKey>? Read(string path)
    {
        if (LegacyJsonFile.Read(path, BrokerJsonContext.Default.SigningKeysDocument) is not { } document)
        {
            return null;
        }

        LegacyJsonFile.CheckVersion(path, document.Version, SigningKeysDocument.CurrentVersion);
        var keys = new List<SigningKey>(document.Keys.Count);
        foreach (SigningKeyEntry entry in document.Keys)
        {
            if (string.IsNullOrEmpty(entry.Kid))
            {
                throw new BrokerConfigurationException($"signing keys file '{path}' has a key without a kid");
            }

            var key = ECDsa.Create();
            try
            {
                key.ImportFromPem(entry.PrivateKeyPem);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                key.Dispose();
                // The message names the key, never its material.
                throw new BrokerConfigurationException($"signing keys file '{path}': key {entry.Kid} is not a PKCS#8 PEM private key");
            }

            if (key.KeySize != 256)
            {
                key.Dispose();
                throw new BrokerConfigurationException($"signing keys file '{path}': key {entry.Kid} is not a P-256 key");
            }

            keys.Add(new SigningKey(entry.Kid, key, entry.CreatedAt, entry.RetiredAt, entry.NotAfter));
        }

        return keys;
    }
}
