namespace AccelBroker.Broker.Tokens;

/// <summary>A public key agents trust: key id, SubjectPublicKeyInfo DER, and until when (null while it is current).</summary>
internal sealed record SigningKeyPublic(string Kid, byte[] SubjectPublicKeyInfo, DateTimeOffset? NotAfter);
