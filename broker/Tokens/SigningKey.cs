using System.Security.Cryptography;

namespace AccelBroker.Broker.Tokens;

/// <summary>
/// One ECDSA P-256 key the broker signs tokens with. <see cref="RetiredAt"/> is set once a newer key took over;
/// the public half is still published (and trusted by agents) until <see cref="NotAfter"/>.
/// </summary>
internal sealed record SigningKey(string Kid, ECDsa Key, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt, DateTimeOffset? NotAfter)
{
    /// <summary>The public key as SubjectPublicKeyInfo DER, the form sent to agents.</summary>
    public byte[] PublicKeyDer() => Key.ExportSubjectPublicKeyInfo();
}
