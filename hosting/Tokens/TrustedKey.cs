namespace AccelBroker.Hosting.Tokens;

/// <summary>A broker public key that agents verify tokens with.</summary>
/// <param name="Kid">The key id tokens name in their header.</param>
/// <param name="SubjectPublicKeyInfo">The ECDSA P-256 public key, SubjectPublicKeyInfo DER.</param>
/// <param name="NotAfter">When a retired key stops being trusted; <see langword="null"/> while it is the current one.</param>
public sealed record TrustedKey(string Kid, byte[] SubjectPublicKeyInfo, DateTimeOffset? NotAfter);
