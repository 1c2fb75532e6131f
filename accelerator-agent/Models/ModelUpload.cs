using System.Security.Cryptography;
using AccelBroker.Hosting.Errors;

namespace AccelBroker.Agent.Models;

/// <summary>
/// One model upload in progress: bytes go to a private partial file while being hashed;
/// <see cref="Complete"/> verifies and publishes it, <see cref="Dispose"/> removes anything unpublished.
/// </summary>
internal sealed class ModelUpload : IDisposable
{
    private readonly ModelStore _store;
    private readonly string _partialPath;
    private readonly FileStream _file;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _committed;

    public ModelUpload(ModelStore store, string sha256, long length, string partialPath)
    {
        _store = store;
        Sha256 = sha256;
        Length = length;
        _partialPath = partialPath;
        _file = new FileStream(partialPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
    }

    public string Sha256 { get; }

    public long Length { get; }

    public long Received { get; private set; }

    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (Received + data.Length > Length)
        {
            throw PastAnnouncedLength(Length);
        }

        _hash.AppendData(data.Span);
        try
        {
            await _file.WriteAsync(data, cancellationToken);
        }
        catch (IOException ex) when (IsDiskFull(ex))
        {
            throw _store.DiskFull(Length);
        }

        Received += data.Length;
    }

    /// <summary>Verifies length and hash and publishes the bytes; returns false if they were already held.</summary>
    public async Task<bool> CompleteAsync(CancellationToken cancellationToken)
    {
        if (Received != Length)
        {
            throw DomainException.Invalid($"upload ended after {Received} of {Length} bytes");
        }

        string actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (actual != Sha256)
        {
            throw DomainException.Invalid($"SHA-256 mismatch: the header says {Sha256} but the bytes hash to {actual}");
        }

        try
        {
            await _file.FlushAsync(cancellationToken);
            await _file.DisposeAsync();
        }
        catch (IOException ex) when (IsDiskFull(ex))
        {
            throw _store.DiskFull(Length);
        }

        _committed = true;
        return _store.Commit(_partialPath, Sha256, Length);
    }

    public static DomainException PastAnnouncedLength(long length) =>
        DomainException.Invalid($"upload exceeds the announced length of {length} bytes");

    // ENOSPC (28) on Linux; ERROR_DISK_FULL (0x70) and ERROR_HANDLE_DISK_FULL (0x27) as HRESULTs on Windows.
    internal static bool IsDiskFull(IOException ex) => ex.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    public void Dispose()
    {
        _hash.Dispose();
        try
        {
            _file.Dispose();
        }
        catch (IOException)
        {
            // Flushing what was buffered failed (a full disk): the partial file is deleted below all the same.
        }

        if (!_committed)
        {
            ModelStore.TryDelete(_partialPath);
        }
    }
}
