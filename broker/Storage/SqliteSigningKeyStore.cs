using System.Security.Cryptography;
using AccelBroker.Broker.Tokens;

namespace AccelBroker.Broker.Storage;

/// <summary>
/// The token signing keys in the <c>signing_keys</c> table of broker.db, private keys as PKCS#8 DER: the reason
/// broker.db is owner-only (0600). A key that does not read back is named by its kid, never by its material.
/// </summary>
internal sealed class SqliteSigningKeyStore(SqliteBrokerDatabase database) : ISigningKeyStore
{
    public static SqliteTable<SigningKey> Table { get; } = new("signing_keys",
    [
        new("kid", k => k.Kid),
        new("private_key", k => k.Key.ExportPkcs8PrivateKey()),
        new("created_at", k => SqliteRow.Text(k.CreatedAt)),
        new("retired_at", k => SqliteRow.Text(k.RetiredAt)),
        new("not_after", k => SqliteRow.Text(k.NotAfter)),
    ],
    row => new SigningKey(
        row.String("kid"),
        ReadKey(row.Blob("private_key")),
        row.Time("created_at"),
        row.NullableTime("retired_at"),
        row.NullableTime("not_after")));

    public IReadOnlyList<SigningKey> Load() => Table.Load(database);

    public void Save(IReadOnlyList<SigningKey> keys) => Table.Save(database, keys);

    private static ECDsa ReadKey(byte[] pkcs8)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out _);
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw new InvalidDataException("column private_key is not a PKCS#8 private key", ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new InvalidDataException("column private_key is not a P-256 key");
        }

        return key;
    }
}
