using System.Collections;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Client;

/// <summary>The outputs of one run, in output order, with where and how long the agent worked.</summary>
/// <remarks>
/// Large outputs are received into memory the session reuses. <see cref="Dispose"/> hands it back, so the next run
/// receives into memory that is already resident instead of fresh pages (on some machines the page faults of a
/// fresh 64 MiB buffer cost more than moving it); after that, the tensors must not be used. Not disposing is
/// always safe: the memory is then collected like any other.
/// </remarks>
public sealed class ModelOutput : IReadOnlyList<Tensor>, IDisposable
{
    private readonly Tensor[] _tensors;
    private readonly PooledBuffers? _buffers;

    internal ModelOutput(OutputKind kind, Tensor[] tensors, string device, AgentTiming timing, PooledBuffers? buffers = null)
    {
        Kind = kind;
        _tensors = tensors;
        Device = device;
        Timing = timing;
        _buffers = buffers;
    }

    /// <summary>Whether the model returned a tensor, a tuple or a list.</summary>
    public OutputKind Kind { get; }

    /// <summary>The device that executed the run: "cpu" or "cuda:N".</summary>
    public string Device { get; }

    /// <summary>Time spent on the agent, by stage.</summary>
    public AgentTiming Timing { get; }

    /// <summary>Number of output tensors.</summary>
    public int Count => _tensors.Length;

    /// <summary>The output tensor at <paramref name="index"/>.</summary>
    public Tensor this[int index] => _tensors[index];

    /// <inheritdoc/>
    public IEnumerator<Tensor> GetEnumerator() => ((IEnumerable<Tensor>)_tensors).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _tensors.GetEnumerator();

    /// <summary>
    /// Gives the outputs' memory back for reuse by later runs. The tensors, and any memory taken from their
    /// <see cref="Tensor.Data"/>, must not be used afterwards. Calling it more than once is harmless.
    /// </summary>
    public void Dispose() => _buffers?.Release();
}
