namespace AccelBroker.Protocol.Wire;

/// <summary>
/// Reassembles the data chunks of a streaming call into one buffer per tensor, in order: chunk
/// boundaries need not line up with tensor boundaries.
/// </summary>
internal sealed class ChunkAssembler
{
    private readonly byte[][] _buffers;
    private int _tensor;
    private int _filled;

    /// <summary>Allocates a buffer of each announced length.</summary>
    public ChunkAssembler(IEnumerable<long> lengths)
    {
        _buffers = lengths.Select(length => GC.AllocateUninitializedArray<byte>(checked((int)length))).ToArray();
        Expected = _buffers.Sum(b => (long)b.Length);
    }

    /// <summary>Total bytes announced.</summary>
    public long Expected { get; }

    /// <summary>Bytes received so far.</summary>
    public long Received { get; private set; }

    /// <summary>The buffers, complete once <see cref="Received"/> equals <see cref="Expected"/>.</summary>
    public IReadOnlyList<byte[]> Buffers => _buffers;

    /// <summary>Copies a chunk into place; returns false if it carries more bytes than announced.</summary>
    public bool TryAppend(ReadOnlySpan<byte> chunk)
    {
        if (Received + chunk.Length > Expected)
        {
            return false;
        }

        while (chunk.Length > 0)
        {
            while (_filled == _buffers[_tensor].Length)
            {
                _tensor++;
                _filled = 0;
            }

            int take = Math.Min(chunk.Length, _buffers[_tensor].Length - _filled);
            chunk[..take].CopyTo(_buffers[_tensor].AsSpan(_filled));
            _filled += take;
            Received += take;
            chunk = chunk[take..];
        }

        return true;
    }
}
