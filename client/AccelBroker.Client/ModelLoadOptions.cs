namespace AccelBroker.Client;

/// <summary>How a model is loaded onto an accelerator.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Execution precision; fp32 by default.</summary>
    public ModelPrecision Precision { get; init; } = ModelPrecision.Fp32;

    /// <summary>
    /// Example inputs (dtype and shape; the values are not used) for a warm-up run at load time, so the
    /// first <see cref="AcceleratorSession.Run(RemoteModel, Tensor[])"/> does not pay for graph optimisation. Empty: no warm-up.
    /// </summary>
    public IReadOnlyList<(TensorDataType DataType, long[] Shape)> WarmupInputs { get; init; } = [];
}
