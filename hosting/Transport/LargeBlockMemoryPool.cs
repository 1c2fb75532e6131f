using System.Buffers;
using System.Collections.Concurrent;

namespace AccelBroker.Hosting.Transport;

/// <summary>
/// A Kestrel memory pool of large pinned blocks. Kestrel's default pool hands each socket 4 KiB blocks, so a 64 MiB
/// tensor arrives in 16,384 <c>recv</c> calls and as many pipe segments; with 128 KiB blocks it takes 512 (measured
/// on these VMs: a bare gRPC echo of 64 MiB went from ~300 to ~390 MB/s with 64–256 KiB blocks).
/// </summary>
/// <remarks>
/// Bounded, and it gives memory back: at most <see cref="MaxIdleBlocks"/> blocks wait for reuse, and blocks left
/// idle for the idle limit are dropped (an earlier unbounded trial pool only ever grew). Blocks are pinned, as
/// sockets need them to be, on the pinned object heap, which lets the GC reclaim dropped ones.
/// </remarks>
public sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    private readonly ConcurrentStack<(byte[] Block, long ReturnedAt)> _idle = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _idleLimit;
    private readonly ITimer _trim;
    private int _idleCount;
    private bool _disposed;

    /// <param name="blockSize">Bytes per block.</param>
    /// <param name="maxIdleBlocks">Blocks kept for reuse at most.</param>
    /// <param name="idleLimit">How long an unused block is kept.</param>
    /// <param name="time">The clock for idle blocks.</param>
    public LargeBlockMemoryPool(int blockSize, int maxIdleBlocks, TimeSpan idleLimit, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 4096);
        ArgumentOutOfRangeException.ThrowIfNegative(maxIdleBlocks);
        ArgumentNullException.ThrowIfNull(time);
        BlockSize = blockSize;
        MaxIdleBlocks = maxIdleBlocks;
        _idleLimit = idleLimit;
        _time = time;
        TimeSpan period = idleLimit / 2 > TimeSpan.Zero ? idleLimit / 2 : TimeSpan.FromSeconds(1);
        _trim = time.CreateTimer(static state => ((LargeBlockMemoryPool)state!).Trim(), this, period, period);
    }

    /// <summary>Bytes per block.</summary>
    public int BlockSize { get; }

    /// <summary>Blocks kept for reuse at most.</summary>
    public int MaxIdleBlocks { get; }

    /// <summary>Blocks waiting for reuse now.</summary>
    public int IdleBlocks => Volatile.Read(ref _idleCount);

    /// <inheritdoc/>
    public override int MaxBufferSize => BlockSize;

    /// <inheritdoc/>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (minBufferSize > BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"blocks are {BlockSize} bytes");
        }

        if (_idle.TryPop(out (byte[] Block, long ReturnedAt) kept))
        {
            Interlocked.Decrement(ref _idleCount);
            return new Lease(this, kept.Block);
        }

        return new Lease(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true));
    }

    /// <summary>Drops the blocks that have waited longer than the idle limit.</summary>
    public void Trim()
    {
        long now = _time.GetTimestamp();
        var keep = new List<(byte[] Block, long ReturnedAt)>();
        while (_idle.TryPop(out (byte[] Block, long ReturnedAt) entry))
        {
            Interlocked.Decrement(ref _idleCount);
            if (_time.GetElapsedTime(entry.ReturnedAt, now) < _idleLimit)
            {
                keep.Add(entry);
            }
        }

        // Oldest first back in, so the most recently used are taken first again.
        for (int i = keep.Count - 1; i >= 0; i--)
        {
            _idle.Push(keep[i]);
            Interlocked.Increment(ref _idleCount);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _trim.Dispose();
        _idle.Clear();
        Volatile.Write(ref _idleCount, 0);
    }

    private void Return(byte[] block)
    {
        if (_disposed || Interlocked.Increment(ref _idleCount) > MaxIdleBlocks)
        {
            Interlocked.Decrement(ref _idleCount);
            return;
        }

        _idle.Push((block, _time.GetTimestamp()));
    }

    private sealed class Lease(LargeBlockMemoryPool pool, byte[] block) : IMemoryOwner<byte>
    {
        private byte[]? _block = block;

        public Memory<byte> Memory => _block ?? throw new ObjectDisposedException(nameof(Lease));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _block, null) is { } returned)
            {
                pool.Return(returned);
            }
        }
    }
}
