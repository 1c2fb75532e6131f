using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace AccelBroker.Broker.Security;

/// <summary>
/// The broker's bearer secrets: <c>&lt;prefix&gt;_&lt;id&gt;_&lt;secret&gt;</c>, where the id (16 hex characters) is
/// public and finds the record, and the secret is 32 random bytes, base64url. Only the SHA-256 of the whole string is
/// kept: a 256-bit random secret needs no slow hash, and a stolen store holds nothing that authenticates.
/// </summary>
internal static class SecretCodec
{
    public const int IdLength = 16;
    private const int SecretBytes = 32;

    /// <summary>A new secret with <paramref name="prefix"/> (e.g. <c>abk</c>), and its public id.</summary>
    public static (string Id, string Secret) Create(string prefix)
    {
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));
        Span<byte> random = stackalloc byte[SecretBytes];
        RandomNumberGenerator.Fill(random);
        string secret = $"{prefix}_{id}_{Base64Url.EncodeToString(random)}";
        CryptographicOperations.ZeroMemory(random);
        return (id, secret);
    }

    /// <summary>The public id of a well-formed secret with <paramref name="prefix"/>; <see langword="false"/> for anything else.</summary>
    public static bool TryGetId(string presented, string prefix, out string id)
    {
        id = "";
        int length = prefix.Length + 1 + IdLength + 1;
        if (presented.Length <= length || presented.Length > 128
            || !presented.StartsWith(prefix, StringComparison.Ordinal)
            || presented[prefix.Length] != '_' || presented[length - 1] != '_')
        {
            return false;
        }

        string candidate = presented.Substring(prefix.Length + 1, IdLength);
        if (!IsId(candidate))
        {
            return false;
        }

        id = candidate;
        return true;
    }

    /// <summary>Whether <paramref name="id"/> has the shape of a public id.</summary>
    public static bool IsId(string id) => id.Length == IdLength && id.All(c => char.IsAsciiDigit(c) || char.IsAsciiHexDigitLower(c));

    /// <summary>SHA-256 of the secret, base64: what stores keep.</summary>
    public static string Hash(string secret) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Whether <paramref name="presented"/> hashes to <paramref name="storedHash"/>, in constant time.</summary>
    public static bool Matches(string presented, string storedHash)
    {
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        if (!Convert.TryFromBase64String(storedHash, expected, out int written) || written != expected.Length)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), actual);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
