using System.IO.MemoryMappedFiles;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// A shared-memory file mapped into this process: tensors cross between the agent and a worker here instead of
/// being copied through a pipe. The mapping is kept and reused, so its pages stay warm (first-touch page faults
/// are what large transfers pay for on these machines). The file is unlinked once both sides have mapped it, so
/// nothing is left in /dev/shm if either process dies.
/// </summary>
internal sealed unsafe class SharedLane : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private bool _disposed;

    private SharedLane(string path, long generation, long capacity, MemoryMappedFile file)
    {
        Path = path;
        Generation = generation;
        Capacity = capacity;
        _file = file;
        _view = file.CreateViewAccessor(0, capacity, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _pointer = pointer + _view.PointerOffset;
    }

    public string Path { get; }

    public long Generation { get; }

    public long Capacity { get; }

    /// <summary>Where lane files live: tmpfs when the machine has it.</summary>
    public static string Directory { get; } =
        System.IO.Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();

    /// <summary>Tensors start at multiples of this, as libtorch's allocator aligns them.</summary>
    public const int Alignment = 64;

    public static long Align(long offset) => (offset + Alignment - 1) & ~(long)(Alignment - 1);

    /// <summary>Creates a new lane file of at least <paramref name="needed"/> bytes (rounded up to a power of two).</summary>
    public static SharedLane Create(string name, long generation, long needed)
    {
        long capacity = 256 * 1024;
        while (capacity < needed)
        {
            capacity *= 2;
        }

        string path = System.IO.Path.Combine(Directory, $"{name}-{generation}");
        // Owner-only: other local users must not read a tenant's tensors in the moment before the file is unlinked.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite | FileShare.Delete };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var stream = new FileStream(path, options);
        stream.SetLength(capacity);
        MemoryMappedFile file = MemoryMappedFile.CreateFromFile(stream, null, capacity, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        return new SharedLane(path, generation, capacity, file);
    }

    /// <summary>Maps a lane file the other side created.</summary>
    public static SharedLane Open(string path, long generation, long capacity)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length < capacity)
        {
            stream.Dispose();
            throw new InvalidDataException($"lane file {path} has {stream.Length} bytes, expected {capacity}");
        }

        MemoryMappedFile file = MemoryMappedFile.CreateFromFile(stream, null, capacity, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        return new SharedLane(path, generation, capacity, file);
    }

    public Span<byte> Span(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || length < 0 || offset + length > Capacity || length > int.MaxValue)
        {
            throw new InvalidDataException($"lane range {offset}+{length} is outside its {Capacity} bytes");
        }

        return new Span<byte>(_pointer + offset, (int)length);
    }

    /// <summary>A 32-bit word of the lane, for flags both processes change atomically.</summary>
    public ref int Int32At(long offset)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || offset + sizeof(int) > Capacity || (offset & (sizeof(int) - 1)) != 0)
        {
            throw new InvalidDataException($"lane word at {offset} is outside its {Capacity} bytes or unaligned");
        }

        return ref *(int*)(_pointer + offset);
    }

    /// <summary>Removes the file; the mappings stay valid until disposed.</summary>
    public void Unlink()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
