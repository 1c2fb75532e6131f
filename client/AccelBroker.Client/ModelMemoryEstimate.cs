using AccelBroker.Client.Internal;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Client;

/// <summary>What a model is taken to need on a slice before anything of it is measured.</summary>
public static class ModelMemoryEstimate
{
    /// <summary>
    /// The estimate before a load: the serialized size standing in for the weights (halved at fp16/bf16, as the
    /// agent estimates a load), plus the warm-up's inputs, so that a load judged to fit does not make the slice evict.
    /// </summary>
    /// <param name="fileBytes">Size of the TorchScript file.</param>
    /// <param name="precision">The precision it will be loaded at.</param>
    /// <param name="warmupInputs">The warm-up inputs of the load (<see cref="ModelLoadOptions.WarmupInputs"/>).</param>
    /// <returns>Estimated bytes.</returns>
    public static long BeforeLoad(long fileBytes, ModelPrecision precision, IReadOnlyList<(TensorDataType DataType, long[] Shape)> warmupInputs)
    {
        ArgumentNullException.ThrowIfNull(warmupInputs);
        long weights = LoadEstimates.WeightsBytes(fileBytes, WireConversion.ToWire(precision));
        return weights + warmupInputs.Sum(w => w.Shape.Aggregate(1L, (a, b) => a * b) * w.DataType.GetElementSize());
    }
}
