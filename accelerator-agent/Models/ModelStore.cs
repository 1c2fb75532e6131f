using System.Collections.Concurrent;
using System.Security.Cryptography;
using Grpc.Core;

namespace AccelBroker.Agent.Models;

/// <summary>
/// Uploaded model bytes on disk, addressed by their SHA-256. A file appears under its final
/// name only after its length and hash were verified, so a reader never sees half an upload.
/// </summary>
internal sealed class ModelStore
{
    private readonly string _directory;
    private readonly ConcurrentDictionary<string, long> _held = new(StringComparer.Ordinal);

    public ModelStore(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        foreach (string path in Directory.EnumerateFiles(directory, "*.pt"))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (IsSha256(name))
            {
                _held[name] = new FileInfo(path).Length;
            }
        }

        // Leftovers of uploads broken by a crash.
        foreach (string partial in Directory.EnumerateFiles(directory, "*.partial"))
        {
            TryDelete(partial);
        }
    }

    public bool TryGetLength(string sha256, out long length) => _held.TryGetValue(sha256, out length);

    public string PathOf(string sha256) => Path.Combine(_directory, sha256 + ".pt");

    /// <summary>Starts an upload of bytes that must hash to <paramref name="sha256"/> and be <paramref name="length"/> long.</summary>
    public ModelUpload BeginUpload(string sha256, long length) =>
        new(this, sha256, length, Path.Combine(_directory, $"{sha256}.{Guid.NewGuid():N}.partial"));

    /// <summary>Reads held model bytes, checking they still hash to their name.</summary>
    public byte[] Read(string sha256)
    {
        if (!_held.ContainsKey(sha256))
        {
            throw new RpcException(new Status(StatusCode.NotFound,
                $"model sha256={sha256} is not held by this agent; upload it first"));
        }

        byte[] bytes = File.ReadAllBytes(PathOf(sha256));
        string actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (actual != sha256)
        {
            _held.TryRemove(sha256, out _);
            TryDelete(PathOf(sha256));
            throw new RpcException(new Status(StatusCode.DataLoss,
                $"stored model sha256={sha256} was corrupted on disk (hashes to {actual}) and was removed; upload it again"));
        }

        return bytes;
    }

    internal bool Commit(string partialPath, string sha256, long length)
    {
        string final = PathOf(sha256);
        bool stored;
        try
        {
            File.Move(partialPath, final, overwrite: false);
            stored = true;
        }
        catch (IOException) when (File.Exists(final))
        {
            // A concurrent upload of the same bytes won; the content is identical by hash.
            TryDelete(partialPath);
            stored = false;
        }

        _held[sha256] = length;
        return stored;
    }

    public static bool IsSha256(string value) =>
        value.Length == 64 && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
