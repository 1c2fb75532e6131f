using System.Numerics;

namespace AccelBroker.Protocol.Wire;

/// <summary>
/// Reused buffers for tensor bytes on the data path. A fresh large array costs its first-touch page faults on
/// every call (64 MiB: ~160–190 ms on these VMs, against ~3.5 ms into memory already touched), so large payloads
/// are received into, and sent from, arrays that stay resident between calls.
/// </summary>
/// <remarks>
/// Bounded and self-emptying: at most <see cref="MaxRetainedBytes"/> are kept, arrays come in power-of-two sizes
/// from <see cref="MinPooledBytes"/>, and an array left unused for <see cref="IdleLimit"/> is dropped for the GC
/// to reclaim, so a burst of large calls does not hold its memory for ever. A rented array that is never returned
/// is simply collected: returning is an optimisation, never a requirement.
/// </remarks>
internal sealed class PayloadPool : IDisposable
{
    /// <summary>Below this, arrays come from the GC's young generation, which is already warm and cheap.</summary>
    public const int MinPooledBytes = 64 * 1024;

    private const int MinClass = 16; // 2^16 = MinPooledBytes
    private const int MaxClass = 30; // 1 GiB; larger requests are allocated exactly and never kept

    private readonly Stack<(byte[] Array, long ReturnedAt)>[] _classes = new Stack<(byte[], long)>[MaxClass + 1];
    private readonly TimeProvider _time;
    private readonly ITimer _trim;
    private long _retained;

    public PayloadPool(long maxRetainedBytes, TimeSpan idleLimit, TimeProvider time)
    {
        MaxRetainedBytes = maxRetainedBytes;
        IdleLimit = idleLimit;
        _time = time;
        for (int i = MinClass; i <= MaxClass; i++)
        {
            _classes[i] = new Stack<(byte[], long)>();
        }

        TimeSpan period = idleLimit / 2 > TimeSpan.Zero ? idleLimit / 2 : TimeSpan.FromSeconds(1);
        _trim = time.CreateTimer(static state => ((PayloadPool)state!).Trim(), this, period, period);
    }

    /// <summary>The process's pool for the data path: 512 MiB at most, emptied of arrays idle for 30 s.</summary>
    public static PayloadPool Shared { get; } = new(512L * 1024 * 1024, TimeSpan.FromSeconds(30), TimeProvider.System);

    public long MaxRetainedBytes { get; }

    public TimeSpan IdleLimit { get; }

    /// <summary>Bytes held by the pool, not rented out.</summary>
    public long RetainedBytes => Interlocked.Read(ref _retained);

    /// <summary>An array of at least <paramref name="minimumLength"/> bytes, not zeroed.</summary>
    public byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        if (minimumLength < MinPooledBytes)
        {
            return minimumLength == 0 ? [] : GC.AllocateUninitializedArray<byte>(minimumLength);
        }

        int sizeClass = ClassOf(minimumLength);
        if (sizeClass > MaxClass)
        {
            return GC.AllocateUninitializedArray<byte>(minimumLength);
        }

        Stack<(byte[] Array, long ReturnedAt)> stack = _classes[sizeClass];
        lock (stack)
        {
            if (stack.TryPop(out (byte[] Array, long ReturnedAt) kept))
            {
                Interlocked.Add(ref _retained, -kept.Array.Length);
                return kept.Array;
            }
        }

        return GC.AllocateUninitializedArray<byte>(1 << sizeClass);
    }

    /// <summary>Takes an array back; it must no longer be read or written by anyone.</summary>
    public void Return(byte[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length < MinPooledBytes || !BitOperations.IsPow2(array.Length) || ClassOf(array.Length) > MaxClass)
        {
            return;
        }

        if (Interlocked.Add(ref _retained, array.Length) > MaxRetainedBytes)
        {
            Interlocked.Add(ref _retained, -array.Length);
            return;
        }

        Stack<(byte[] Array, long ReturnedAt)> stack = _classes[ClassOf(array.Length)];
        lock (stack)
        {
            stack.Push((array, _time.GetTimestamp()));
        }
    }

    /// <summary>Drops every array that has not been rented for <see cref="IdleLimit"/>.</summary>
    public void Trim()
    {
        long now = _time.GetTimestamp();
        for (int i = MinClass; i <= MaxClass; i++)
        {
            Stack<(byte[] Array, long ReturnedAt)> stack = _classes[i];
            lock (stack)
            {
                if (stack.Count == 0)
                {
                    continue;
                }

                // Rent takes the most recently returned first, so the idle ones sit at the bottom.
                (byte[] Array, long ReturnedAt)[] kept = [.. stack.Where(e => _time.GetElapsedTime(e.ReturnedAt, now) < IdleLimit).Reverse()];
                long dropped = (long)(stack.Count - kept.Length) << i;
                if (dropped == 0)
                {
                    continue;
                }

                stack.Clear();
                foreach ((byte[] Array, long ReturnedAt) entry in kept)
                {
                    stack.Push(entry);
                }

                Interlocked.Add(ref _retained, -dropped);
            }
        }
    }

    public void Dispose() => _trim.Dispose();

    private static int ClassOf(int length) => Math.Max(MinClass, 32 - BitOperations.LeadingZeroCount((uint)length - 1));
}
