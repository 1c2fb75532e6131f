using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AccelBroker.Hosting.Tokens;

/// <summary>Signs tokens: compact JWTs, ES256, the key id in the header. Used by the broker (and by tests standing in for one).</summary>
public static class AccessTokenIssuer
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>
    /// Signature providers uncached: the library caches them process-wide by key thumbprint, so a key disposed by one
    /// ring (a broker stopped, a key pruned) would be handed to another ring that loaded the same key.
    /// </summary>
    internal static readonly CryptoProviderFactory UncachedProviders = new() { CacheSignatureProviders = false };

    /// <summary>Signs a token that grants <paramref name="grant"/> from <paramref name="issuedAt"/> to its expiry.</summary>
    /// <param name="kid">The signing key's id, which agents look the public key up by.</param>
    /// <param name="key">The ECDSA P-256 private key.</param>
    /// <param name="grant">What the token grants, to whom, until when.</param>
    /// <param name="issuedAt">Now, by the issuer's clock.</param>
    /// <returns>The token.</returns>
    public static string Issue(string kid, ECDsa key, AccessGrant grant, DateTimeOffset issuedAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(kid);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(grant);
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [JwtRegisteredClaimNames.Sub] = grant.Subject,
            [AccessTokenFormat.ScopeClaim] = AccessTokenFormat.NameOf(grant.Scope),
        };
        if (grant.SliceId is not null)
        {
            claims[AccessTokenFormat.SliceClaim] = grant.SliceId;
        }

        if (grant.Epoch > 0)
        {
            claims[AccessTokenFormat.EpochClaim] = grant.Epoch;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = AccessTokenFormat.Issuer,
            Audience = grant.AgentId,
            IssuedAt = issuedAt.UtcDateTime,
            NotBefore = issuedAt.UtcDateTime,
            Expires = grant.ExpiresAt.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = kid, CryptoProviderFactory = UncachedProviders }, SecurityAlgorithms.EcdsaSha256)
            {
                CryptoProviderFactory = UncachedProviders,
            },
        };

        // One signature per key at a time: an ECDsa instance is not documented as safe for concurrent use.
        lock (key)
        {
            return Handler.CreateToken(descriptor);
        }
    }
}
