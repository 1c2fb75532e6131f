using System.Globalization;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Attachments;

/// <summary>
/// Reads an allowlist from a request: absent stays absent (any model), hashes are read in lower case, duplicates count
/// once, and the result is sorted so that the same set always reads, saves and compares the same.
/// </summary>
internal static class ModelAllowlistChecks
{
    /// <summary>The most hashes one allowlist may hold.</summary>
    public const int MaxHashes = 1024;

    // A bad entry is echoed so the operator can find it, but never at unbounded length.
    private const int MaxEchoedLength = 80;

    /// <exception cref="DomainException">InvalidInput naming the first entry that is not a SHA-256, or the bound.</exception>
    public static IReadOnlyList<string>? Normalize(ModelAllowlist? allowlist)
    {
        if (allowlist is null)
        {
            return null;
        }

        if (allowlist.Sha256.Count > MaxHashes)
        {
            throw DomainException.Invalid(string.Create(CultureInfo.InvariantCulture,
                $"the allowlist has {allowlist.Sha256.Count} entries; at most {MaxHashes} are allowed"));
        }

        var hashes = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < allowlist.Sha256.Count; i++)
        {
            string entry = allowlist.Sha256[i];
            string hash = entry.ToLowerInvariant();
            if (!IsSha256(hash))
            {
                string shown = entry.Length > MaxEchoedLength ? entry[..MaxEchoedLength] + "…" : entry;
                throw DomainException.Invalid(string.Create(CultureInfo.InvariantCulture,
                    $"allowlist entry {i} ('{shown}') is not a SHA-256: expected 64 hex digits"));
            }

            hashes.Add(hash);
        }

        return [.. hashes];
    }

    public static ModelAllowlist? ToProto(IReadOnlyList<string>? hashes)
    {
        if (hashes is null)
        {
            return null;
        }

        var allowlist = new ModelAllowlist();
        allowlist.Sha256.AddRange(hashes);
        return allowlist;
    }

    private static bool IsSha256(string value) =>
        value.Length == 64 && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}
