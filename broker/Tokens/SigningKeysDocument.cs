namespace AccelBroker.Broker.Tokens;

/// <summary>The JSON shape of <c>signing-keys.json</c>: private keys as PKCS#8 PEM.</summary>
internal sealed record SigningKeysDocument(int Version, IReadOnlyList<SigningKeyEntry> Keys)
{
    public const int CurrentVersion = 1;
}

/// <summary>One key in <see cref="SigningKeysDocument"/>.</summary>
internal sealed record SigningKeyEntry(string Kid, string PrivateKeyPem, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt, DateTimeOffset? NotAfter);
