using AccelBroker.Protocol.V1;

namespace AccelBroker.Protocol.Wire;

/// <summary>
/// What a model load is taken to need before anything of it is measured. The agent refuses a model or makes room for
/// it on this figure, and clients (accel max-models) judge whether a load would fit with it, so both use this one rule.
/// </summary>
internal static class LoadEstimates
{
    /// <summary>The serialized size stands in for the weights; at fp16/bf16 they are cast to half their size.</summary>
    /// <param name="serializedBytes">Size of the TorchScript file.</param>
    /// <param name="precision">The precision the model is loaded at.</param>
    /// <returns>Estimated bytes of the loaded weights.</returns>
    public static long WeightsBytes(long serializedBytes, Precision precision) =>
        precision is Precision.Fp16 or Precision.Bf16 ? serializedBytes / 2 : serializedBytes;
}
