using System.Collections.Concurrent;
using System.Security.Cryptography;
using AccelBroker.Hosting.Errors;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AccelBroker.Hosting.Tokens;

/// <summary>
/// Verifies broker-signed tokens offline against the public keys the broker published (<see cref="Trust"/>):
/// signature by key id, issuer, audience (this agent), expiry and not-before by the injected clock with
/// <see cref="AccessTokenFormat.ClockSkew"/>. A verified token is remembered until it expires, so a warm call costs a
/// dictionary lookup rather than an ECDSA verification. Refusals are <see cref="DomainException"/>s (Unauthenticated)
/// whose messages never quote the token.
/// </summary>
public sealed class AccessTokenVerifier
{
    /// <summary>Most tokens remembered at once; past it, expired ones go first, then all.</summary>
    public const int CacheCapacity = 16_384;

    private readonly JsonWebTokenHandler _handler = new();
    private readonly ConcurrentDictionary<string, AccessGrant> _verified;
    private readonly ConcurrentDictionary<string, AccessGrant>.AlternateLookup<ReadOnlySpan<char>> _verifiedBySpan;
    private readonly TimeProvider _time;
    private readonly Lock _keysGate = new();
    private TokenValidationParameters? _parameters;
    private IReadOnlyList<TrustedKey> _keys = [];

    /// <summary>Creates a verifier that trusts no key until <see cref="Trust"/> is called.</summary>
    /// <param name="time">The clock expiry is judged by.</param>
    public AccessTokenVerifier(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _verified = new ConcurrentDictionary<string, AccessGrant>(StringComparer.Ordinal);
        _verifiedBySpan = _verified.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The key ids trusted now.</summary>
    public IReadOnlyList<string> TrustedKeyIds => [.. Volatile.Read(ref _keys).Select(k => k.Kid)];

    /// <summary>
    /// Replaces the trusted keys with the broker's current list. Keys past their not-after are left out; a token
    /// remembered from a key that is no longer trusted is forgotten.
    /// </summary>
    /// <param name="keys">The keys the broker publishes now.</param>
    /// <returns>Whether the trusted keys changed.</returns>
    public bool Trust(IReadOnlyList<TrustedKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        DateTimeOffset now = _time.GetUtcNow();
        TrustedKey[] live = [.. keys.Where(k => k.NotAfter is not { } notAfter || notAfter > now)];
        lock (_keysGate)
        {
            if (Same(_keys, live))
            {
                return false;
            }

            var signingKeys = new List<SecurityKey>(live.Length);
            foreach (TrustedKey key in live)
            {
                var ecdsa = ECDsa.Create();
                try
                {
                    ecdsa.ImportSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
                }
                catch (CryptographicException)
                {
                    ecdsa.Dispose();
                    continue;
                }

                // Uncached for the reason AccessTokenIssuer gives; verified tokens are remembered here instead.
                signingKeys.Add(new ECDsaSecurityKey(ecdsa) { KeyId = key.Kid, CryptoProviderFactory = AccessTokenIssuer.UncachedProviders });
            }

            bool removed = _keys.Any(old => !live.Any(k => k.Kid == old.Kid));
            _parameters = new TokenValidationParameters
            {
                ValidIssuer = AccessTokenFormat.Issuer,
                ValidateAudience = false, // checked against the caller's audience below, per call
                ValidateLifetime = false, // checked below with the injected clock
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                IssuerSigningKeys = signingKeys,
                TryAllIssuerSigningKeys = false,
            };
            Volatile.Write(ref _keys, live);
            if (removed)
            {
                _verified.Clear();
            }

            return true;
        }
    }

    /// <summary>Verifies <paramref name="token"/> for the agent <paramref name="audience"/>.</summary>
    /// <param name="token">The compact JWT from the caller's <c>authorization: Bearer</c> header.</param>
    /// <param name="audience">This agent's id.</param>
    /// <returns>What the token grants.</returns>
    /// <exception cref="DomainException">Unauthenticated: malformed, badly signed, by an untrusted key, expired, not yet valid or for another agent.</exception>
    public ValueTask<AccessGrant> VerifyAsync(string token, string audience)
    {
        ArgumentNullException.ThrowIfNull(token);
        return VerifyAsync(token.AsMemory(), audience);
    }

    /// <summary>Verifies a token still inside its header's text: a remembered token costs no allocation.</summary>
    /// <param name="token">The compact JWT.</param>
    /// <param name="audience">This agent's id.</param>
    /// <returns>What the token grants.</returns>
    /// <exception cref="DomainException">Unauthenticated, as <see cref="VerifyAsync(string, string)"/>.</exception>
    public ValueTask<AccessGrant> VerifyAsync(ReadOnlyMemory<char> token, string audience)
    {
        DateTimeOffset now = _time.GetUtcNow();
        return _verifiedBySpan.TryGetValue(token.Span, out AccessGrant? known)
            ? ValueTask.FromResult(Admitted(known, audience, now))
            : VerifyNewAsync(token.ToString(), audience, now);
    }

    private async ValueTask<AccessGrant> VerifyNewAsync(string token, string audience, DateTimeOffset now)
    {
        TokenValidationParameters parameters = Volatile.Read(ref _parameters)
            ?? throw DomainException.Unauthenticated("this agent has not received the broker's token keys yet (it has not registered); retry shortly");
        TokenValidationResult result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            throw DomainException.Unauthenticated(Reason(result.Exception));
        }

        AccessGrant grant = GrantOf(jwt);
        if (now < new DateTimeOffset(jwt.ValidFrom, TimeSpan.Zero) - AccessTokenFormat.ClockSkew)
        {
            throw DomainException.Unauthenticated("the token is not valid yet (check the clocks of broker and agent)");
        }

        grant = Admitted(grant, audience, now);
        Remember(token, grant, now);
        return grant;
    }

    private static AccessGrant GrantOf(JsonWebToken jwt)
    {
        if (!jwt.TryGetPayloadValue(AccessTokenFormat.ScopeClaim, out string? scopeName) || !AccessTokenFormat.TryParse(scopeName, out AccessScope scope))
        {
            throw DomainException.Unauthenticated("the token names no known scope");
        }

        string? slice = jwt.TryGetPayloadValue(AccessTokenFormat.SliceClaim, out string? s) ? s : null;
        if (scope == AccessScope.Slice && string.IsNullOrEmpty(slice))
        {
            throw DomainException.Unauthenticated("the slice token names no slice");
        }

        long epoch = 0;
        if (jwt.TryGetPayloadValue(AccessTokenFormat.EpochClaim, out long e))
        {
            epoch = e > 0 ? e : throw DomainException.Unauthenticated("the token's epoch is not positive");
        }

        string audience = jwt.Audiences.FirstOrDefault() ?? "";
        return new AccessGrant(scope, audience, jwt.Subject ?? "", scope == AccessScope.Slice ? slice : null, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero))
        {
            Epoch = scope == AccessScope.Slice ? epoch : 0,
        };
    }

    private static AccessGrant Admitted(AccessGrant grant, string audience, DateTimeOffset now)
    {
        if (!string.Equals(grant.AgentId, audience, StringComparison.Ordinal))
        {
            throw DomainException.Unauthenticated($"the token is for agent '{grant.AgentId}', not this agent ('{audience}')");
        }

        if (now >= grant.ExpiresAt + AccessTokenFormat.ClockSkew)
        {
            throw DomainException.Unauthenticated($"the token expired at {grant.ExpiresAt:u}; resolve the accelerator again for a new one");
        }

        return grant;
    }

    private static string Reason(Exception? failure) => failure switch
    {
        SecurityTokenSignatureKeyNotFoundException => "the token is signed by a key this agent does not trust (another broker's, or one retired)",
        SecurityTokenInvalidSignatureException => "the token's signature is not valid",
        SecurityTokenInvalidIssuerException => "the token was not issued by an AccelBroker broker",
        SecurityTokenInvalidAlgorithmException => "the token is not signed with ES256",
        SecurityTokenNoExpirationException => "the token has no expiry",
        SecurityTokenMalformedException or ArgumentException => "the token is not a well-formed JWT",
        _ => "the token is not valid",
    };

    private void Remember(string token, AccessGrant grant, DateTimeOffset now)
    {
        if (_verified.Count >= CacheCapacity)
        {
            foreach (KeyValuePair<string, AccessGrant> entry in _verified)
            {
                if (now >= entry.Value.ExpiresAt + AccessTokenFormat.ClockSkew)
                {
                    _verified.TryRemove(entry);
                }
            }

            if (_verified.Count >= CacheCapacity)
            {
                _verified.Clear();
            }
        }

        _verified[token] = grant;
    }

    private static bool Same(IReadOnlyList<TrustedKey> current, IReadOnlyList<TrustedKey> next) =>
        current.Count == next.Count
        && current.Zip(next).All(pair => pair.First.Kid == pair.Second.Kid && pair.First.SubjectPublicKeyInfo.AsSpan().SequenceEqual(pair.Second.SubjectPublicKeyInfo));
}
