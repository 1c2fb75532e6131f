using System.Collections;

namespace AccelBroker.Client;

/// <summary>The outputs of one run, in output order, with where and how long the agent worked.</summary>
public sealed class ModelOutput : IReadOnlyList<Tensor>
{
    private readonly Tensor[] _tensors;

    internal ModelOutput(OutputKind kind, Tensor[] tensors, string device, AgentTiming timing)
    {
        Kind = kind;
        _tensors = tensors;
        Device = device;
        Timing = timing;
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
}
