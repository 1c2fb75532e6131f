namespace AccelBroker.Protocol.Wire;

/// <summary>
/// Reassembles the data chunks of a streaming call into one buffer per tensor, in order: chunk
/// boundaries need not line up with tensor boundaries. A tensor's buffer is allocated when its first byte
/// arrives, so a header that announces much and a peer that then sends nothing cost nothing. With an owner, the
/// buffers are pooled arrays of that owner (larger than the tensors: each buffer is the tensor's slice of one).
/// </summary>
internal sealed class ChunkAssembler
{
    private readonly long[] _lengths;
    private readonly byte[]?[] _buffers;
    private readonly PooledBuffers? _owner;
    private int _tensor;
    private int _filled;

    /// <summary>Takes the announced lengths; throws <see cref="OverflowException"/> for one no array can hold.</summary>
    public ChunkAssembler(IEnumerable<long> lengths, PooledBuffers? owner = null)
    {
        _owner = owner;
        _lengths = lengths.ToArray();
        int unfit = Array.FindIndex(_lengths, length => length < 0 || length > Array.MaxLength);
        if (unfit >= 0)
        {
            throw new OverflowException($"a tensor of {_lengths[unfit]} bytes cannot be assembled");
        }

        _buffers = new byte[_lengths.Length][];
        Expected = _lengths.Sum();
    }

    /// <summary>Total bytes announced.</summary>
    public long Expected { get; }

    /// <summary>Bytes received so far.</summary>
    public long Received { get; private set; }

    /// <summary>The buffers, complete once <see cref="Received"/> equals <see cref="Expected"/>.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Buffers
    {
        get
        {
            var buffers = new ReadOnlyMemory<byte>[_buffers.Length];
            for (int i = 0; i < _buffers.Length; i++)
            {
                buffers[i] = (_buffers[i] ??= Buffer(i)).AsMemory(0, (int)_lengths[i]);
            }

            return buffers;
        }
    }

    /// <summary>Copies a chunk into place; returns false if it carries more bytes than announced.</summary>
    public bool TryAppend(ReadOnlySpan<byte> chunk)
    {
        if (Received + chunk.Length > Expected)
        {
            return false;
        }

        while (chunk.Length > 0)
        {
            while (_filled == _lengths[_tensor])
            {
                _tensor++;
                _filled = 0;
            }

            byte[] buffer = _buffers[_tensor] ??= Buffer(_tensor);
            int take = (int)Math.Min(chunk.Length, _lengths[_tensor] - _filled);
            chunk[..take].CopyTo(buffer.AsSpan(_filled));
            _filled += take;
            Received += take;
            chunk = chunk[take..];
        }

        return true;
    }

    private byte[] Buffer(int tensor) => _lengths[tensor] switch
    {
        0 => [],
        long length when _owner is not null => _owner.Rent((int)length),
        long length => GC.AllocateUninitializedArray<byte>((int)length),
    };
}
