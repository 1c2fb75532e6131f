namespace AccelBroker.Protocol.Wire;

/// <summary>
/// The pooled arrays one message or one run holds, given back together once nothing reads them any more. Releasing
/// twice is harmless; never releasing only costs the reuse.
/// </summary>
internal sealed class PooledBuffers
{
    private readonly PayloadPool _pool;
    private readonly List<byte[]> _arrays = new(2);
    private int _released;

    public PooledBuffers(PayloadPool pool) => _pool = pool;

    /// <summary>Rents an array of at least <paramref name="length"/> bytes that this owner gives back.</summary>
    public byte[] Rent(int length)
    {
        byte[] array = _pool.Rent(length);
        lock (_arrays)
        {
            _arrays.Add(array);
        }

        return array;
    }

    /// <summary>Gives every array back to the pool; the memory must no longer be in use by gRPC, libtorch or the caller.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        lock (_arrays)
        {
            foreach (byte[] array in _arrays)
            {
                _pool.Return(array);
            }

            _arrays.Clear();
        }
    }
}
