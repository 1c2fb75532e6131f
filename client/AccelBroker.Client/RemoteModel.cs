namespace AccelBroker.Client;

/// <summary>A model loaded on an accelerator, returned by <see cref="AcceleratorSession.LoadModel(string, ModelLoadOptions?)"/>.</summary>
public sealed class RemoteModel
{
    internal RemoteModel(string modelId, string sha256, long length, ModelPrecision precision, string device, bool uploaded)
    {
        ModelId = modelId;
        Sha256 = sha256;
        Length = length;
        Precision = precision;
        Device = device;
        Uploaded = uploaded;
    }

    /// <summary>The agent's id of the loaded model.</summary>
    public string ModelId { get; }

    /// <summary>SHA-256 of the TorchScript bytes (lower-case hex): models are content-addressed.</summary>
    public string Sha256 { get; }

    /// <summary>Size of the TorchScript file in bytes.</summary>
    public long Length { get; }

    /// <summary>Precision the model executes in.</summary>
    public ModelPrecision Precision { get; }

    /// <summary>The device that executes it, as the agent reports it: "cpu" or "cuda:N".</summary>
    public string Device { get; }

    /// <summary>Whether this load sent the bytes (false when the agent already held them).</summary>
    public bool Uploaded { get; }

    /// <summary>
    /// Accelerator memory charged to the slice for this model: on CPU its parameter and buffer bytes plus the
    /// warm-up's peak, on CUDA the device memory its load and warm-up took.
    /// </summary>
    public long ChargedBytes { get; init; }

    /// <summary>
    /// Models the agent unloaded from the slice to make room for this one (least recently used first). They stay
    /// usable: their next run reloads them, at the cost of a load's latency.
    /// </summary>
    public IReadOnlyList<string> EvictedModelIds { get; init; } = [];

    /// <summary>
    /// What the slice's resident models were charged in all, this one included, as the agent answered the load: the
    /// figure to hold against its eviction threshold before the next load.
    /// </summary>
    public long SliceChargedBytes { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{ModelId} ({Precision}, {Device})";
}
