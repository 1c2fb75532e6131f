namespace AccelBroker.Client;

/// <summary>How a model is loaded onto an accelerator.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Execution precision; fp32 by default.</summary>
    public ModelPrecision Precision { get; init; } = ModelPrecision.Fp32;

    /// <summary>
    /// Example inputs (dtype and shape; the values are not used) for a warm-up run at load time, so the
    /// first <see cref="AcceleratorSession.Run(RemoteModel, Tensor[])"/> does not pay for graph optimisation. Empty: no warm-up.
    /// On CPU the warm-up's peak memory is charged to the slice on top of the weights.
    /// </summary>
    public IReadOnlyList<(TensorDataType DataType, long[] Shape)> WarmupInputs { get; init; } = [];

    /// <summary>
    /// Dynamic batching on the agent, or <see langword="null"/> (the default) to run every request alone. Opt in only
    /// for models that treat the rows of the first dimension independently: then concurrent requests whose inputs
    /// agree on all other dimensions are executed as one batch and get exactly the answers they would get alone.
    /// </summary>
    public BatchingOptions? Batching { get; init; }

    /// <summary>
    /// Loads a distinct copy of the same bytes under its own model id, charged to the slice separately (as if it were
    /// another model). Empty (the default): the plain model, shared by every load of these bytes and precision.
    /// At most 64 ASCII letters, digits, '.', '_' or '-'.
    /// </summary>
    public string Alias { get; init; } = "";
}
