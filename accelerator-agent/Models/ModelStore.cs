using System.Security.Cryptography;
using AccelBroker.Hosting.Errors;

namespace AccelBroker.Agent.Models;

/// <summary>
/// Uploaded model bytes on disk, addressed by their SHA-256. A file appears under its final name only after
/// its length and hash were verified, so a reader never sees half an upload. The store is bounded: past
/// its capacity the least recently used models are deleted, except those <see cref="InUse"/> says are
/// loaded, so a model evicted from a slice's memory can always be reloaded from here.
/// </summary>
internal sealed class ModelStore
{
    private readonly string _directory;
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _held = new(StringComparer.Ordinal);
    private long _clock;
    private long _bytes;

    public ModelStore(string directory, long capacityBytes = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 1);
        _directory = directory;
        CapacityBytes = capacityBytes;
        Directory.CreateDirectory(directory);

        // Recency survives restarts through the files' modification times, which Touch keeps current.
        var files = Directory.EnumerateFiles(directory, "*.pt")
            .Select(path => new FileInfo(path))
            .Where(file => IsSha256(Path.GetFileNameWithoutExtension(file.Name)))
            .OrderBy(file => file.LastWriteTimeUtc);
        foreach (FileInfo file in files)
        {
            _held[Path.GetFileNameWithoutExtension(file.Name)] = new Entry(file.Length, ++_clock);
            _bytes += file.Length;
        }

        // Leftovers of uploads broken by a crash.
        foreach (string partial in Directory.EnumerateFiles(directory, "*.partial"))
        {
            TryDelete(partial);
        }
    }

    public long CapacityBytes { get; }

    /// <summary>Bytes of the models held.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Tells whether a model is loaded somewhere, so eviction must spare it.</summary>
    public Func<string, bool> InUse { get; init; } = _ => false;

    public bool TryGetLength(string sha256, out long length)
    {
        lock (_gate)
        {
            if (_held.TryGetValue(sha256, out Entry? entry))
            {
                entry.LastUse = ++_clock;
                length = entry.Length;
                return true;
            }
        }

        length = 0;
        return false;
    }

    public string PathOf(string sha256) => Path.Combine(_directory, sha256 + ".pt");

    /// <summary>Starts an upload of bytes that must hash to <paramref name="sha256"/> and be <paramref name="length"/> long.</summary>
    public ModelUpload BeginUpload(string sha256, long length)
    {
        if (length > CapacityBytes)
        {
            throw DomainException.Exhausted($"a model of {length} bytes does not fit this agent's model store of {CapacityBytes} bytes (--model-store-mib)");
        }

        // Loaded models cannot be evicted: a store they fill refuses new models rather than going past its capacity.
        long pinned = PinnedBytes(except: sha256);
        if (pinned + length > CapacityBytes)
        {
            throw DomainException.Exhausted(
                $"the model store is full: {pinned} of its {CapacityBytes} bytes (--model-store-mib) hold loaded models, which are not evicted, leaving no room for a model of {length} bytes; unload models or raise --model-store-mib");
        }

        return new(this, sha256, length, Path.Combine(_directory, $"{sha256}.{Guid.NewGuid():N}.partial"));
    }

    /// <summary>The refusal of an upload whose write found the store's disk full (ENOSPC).</summary>
    internal DomainException DiskFull(long length) =>
        DomainException.Exhausted($"no space left on the model store's disk ({_directory}): a model of {length} bytes was refused; the models held are still served");

    private long PinnedBytes(string except)
    {
        lock (_gate)
        {
            long pinned = 0;
            foreach ((string sha, Entry entry) in _held)
            {
                if (sha != except && InUse(sha))
                {
                    pinned += entry.Length;
                }
            }

            return pinned;
        }
    }

    /// <summary>
    /// The path of a held model whose bytes still hash to <paramref name="sha256"/>, for a worker process to read:
    /// hashed from the file as a stream, so the agent itself never holds the model's bytes.
    /// </summary>
    public string VerifiedPath(string sha256)
    {
        if (!TryGetLength(sha256, out _))
        {
            throw DomainException.NotFound($"model sha256={sha256} is not held by this agent; upload it first");
        }

        string path = PathOf(sha256);
        string actual;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1024 * 1024))
        {
            actual = Convert.ToHexStringLower(SHA256.HashData(file));
        }

        if (actual != sha256)
        {
            Forget(sha256);
            throw DomainException.DataLoss($"stored model sha256={sha256} was corrupted on disk (hashes to {actual}) and was removed; upload it again");
        }

        Touch(sha256);
        return path;
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

        List<string> evicted;
        lock (_gate)
        {
            if (!_held.ContainsKey(sha256))
            {
                _bytes += length;
            }

            _held[sha256] = new Entry(length, ++_clock);
            evicted = EvictOver(keep: sha256);
        }

        foreach (string sha in evicted)
        {
            TryDelete(PathOf(sha));
        }

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

    private void Touch(string sha256)
    {
        try
        {
            File.SetLastWriteTimeUtc(PathOf(sha256), DateTime.UtcNow);
        }
        catch (IOException)
        {
        }
    }

    private void Forget(string sha256)
    {
        lock (_gate)
        {
            if (_held.Remove(sha256, out Entry? entry))
            {
                _bytes -= entry.Length;
            }
        }

        TryDelete(PathOf(sha256));
    }

    // Oldest first; loaded models and the one just stored are spared even if that leaves the store over.
    private List<string> EvictOver(string keep)
    {
        var evicted = new List<string>();
        if (_bytes <= CapacityBytes)
        {
            return evicted;
        }

        foreach ((string sha, Entry entry) in _held.OrderBy(pair => pair.Value.LastUse).ToList())
        {
            if (_bytes <= CapacityBytes)
            {
                break;
            }

            if (sha == keep || InUse(sha))
            {
                continue;
            }

            _held.Remove(sha);
            _bytes -= entry.Length;
            evicted.Add(sha);
        }

        return evicted;
    }

    private sealed class Entry(long length, long lastUse)
    {
        public long Length { get; } = length;

        public long LastUse { get; set; } = lastUse;
    }
}
