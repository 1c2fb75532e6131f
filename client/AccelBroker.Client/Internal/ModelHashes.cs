using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace AccelBroker.Client.Internal;

/// <summary>
/// SHA-256 of model files, remembered by path, length and modification time: a second load of an
/// unchanged 100 MB model then costs two small calls instead of rehashing it.
/// </summary>
internal static class ModelHashes
{
    private static readonly ConcurrentDictionary<(string Path, long Length, DateTime Modified), string> Cache = new();

    public static async Task<(string Sha256, long Length)> OfFileAsync(string path, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"model file '{path}' does not exist", path);
        }

        var key = (info.FullName, info.Length, info.LastWriteTimeUtc);
        if (Cache.TryGetValue(key, out string? cached))
        {
            return (cached, info.Length);
        }

        await using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        string sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        Cache[key] = sha256;
        return (sha256, info.Length);
    }

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
