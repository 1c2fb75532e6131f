using System.Security.Cryptography;
using System.Text;

namespace AccelBroker.Broker.Enrollment;

/// <summary>
/// Secrets of the form <c>prefix_id_secret</c> (id: 16 lowercase hex, public; secret: 32 random bytes base64url).
/// Only the SHA-256 of the whole string is ever kept.
/// </summary>
internal static class PrefixedSecret
{
    public const string EnrollmentPrefix = "abe";
    public const string AgentCredentialPrefix = "aba";

    public static (string Id, string Secret) Create(string prefix)
    {
        string id = RandomNumberGenerator.GetHexString(16, lowercase: true);
        string secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (id, $"{prefix}_{id}_{secret}");
    }

    /// <summary>The id of a well-formed secret with <paramref name="prefix"/>; null otherwise.</summary>
    public static string? TryGetId(string? value, string prefix)
    {
        // prefix + '_' + 16 hex + '_' + 43 base64url characters.
        if (value is null || value.Length != prefix.Length + 1 + 16 + 1 + 43
            || !value.StartsWith(prefix + "_", StringComparison.Ordinal) || value[prefix.Length + 17] != '_')
        {
            return null;
        }

        string id = value.Substring(prefix.Length + 1, 16);
        return id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')) ? id : null;
    }

    public static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    public static bool Matches(string value, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(value)), Encoding.ASCII.GetBytes(storedHash));
}
