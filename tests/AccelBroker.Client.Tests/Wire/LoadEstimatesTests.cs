using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Xunit;

namespace AccelBroker.Tests.Wire;

/// <summary>The one estimate of a load before it is measured, shared by the agent (CUDA room-making) and clients (max-models).</summary>
public sealed class LoadEstimatesTests
{
    [Theory]
    [InlineData(Precision.Fp32, 1001)]
    [InlineData(Precision.Fp16, 500)]
    [InlineData(Precision.Bf16, 500)]
    public void TheSerializedSizeStandsInForTheWeightsHalvedWhenTheyAreCast(Precision precision, long expected) =>
        Assert.Equal(expected, LoadEstimates.WeightsBytes(1001, precision));
}
