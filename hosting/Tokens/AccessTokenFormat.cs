namespace AccelBroker.Hosting.Tokens;

/// <summary>The claims of the broker's tokens (compact JWTs, ES256), shared by the broker that signs and the agents that verify.</summary>
public static class AccessTokenFormat
{
    /// <summary>The <c>iss</c> of every token.</summary>
    public const string Issuer = "accelbroker";

    /// <summary>Claim naming the <see cref="AccessScope"/>.</summary>
    public const string ScopeClaim = "scope";

    /// <summary>Claim naming the slice (accelerator id) of a slice token.</summary>
    public const string SliceClaim = "slice";

    /// <summary>Claim naming the placement epoch of a slice token.</summary>
    public const string EpochClaim = "epoch";

    /// <summary>How far the clocks of broker and agent may disagree.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>The claim value of a scope.</summary>
    public static string NameOf(AccessScope scope) => scope switch
    {
        AccessScope.Slice => "slice",
        AccessScope.Control => "control",
        AccessScope.Operator => "operator",
        _ => throw new ArgumentOutOfRangeException(nameof(scope), scope, null),
    };

    /// <summary>The scope a claim value names; <see langword="false"/> for anything else.</summary>
    public static bool TryParse(string? value, out AccessScope scope)
    {
        foreach (AccessScope candidate in Enum.GetValues<AccessScope>())
        {
            if (string.Equals(NameOf(candidate), value, StringComparison.Ordinal))
            {
                scope = candidate;
                return true;
            }
        }

        scope = default;
        return false;
    }
}
