using AccelBroker.Cli.Comparing;
using AccelBroker.Cli.Measuring;
using AccelBroker.Client;
using Xunit;

namespace AccelBroker.Tests.Cli.Comparing;

/// <summary>The small parsers and the accuracy core of <c>accel compare</c>.</summary>
public sealed class CompareHelpersTests
{
    [Fact]
    public void ACpuRowNamesThisMachinesCpuModelAndCores()
    {
        const string Info = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)   Platinum 8375C CPU @ 2.90GHz\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz\n";

        Assert.Equal("this machine's CPU: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz, 2 cores", HostCpu.Describe(Info, 2));
        Assert.Equal("this machine's CPU: model unknown, 1 core", HostCpu.Describe(null, 1));
        Assert.Equal("Raspberry Pi 4 Model B Rev 1.4", HostCpu.ModelName("processor\t: 0\nBogoMIPS\t: 108.00\n\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"));
    }

    [Fact]
    public void TheAgentsLoadRefusalGivesWhatWasNeededAndWhatTheSliceHolds()
    {
        const string Refusal = "model 'm-1' needs 33554432 bytes (measured) but slice 'acc-1' has 15000000 of its 16777216 bytes available, even after unloading every model that is not executing";

        Assert.Equal(new DoesNotFit(33554432, "measured", 16777216), DoesNotFit.FromRefusal(Refusal, null));
        Assert.Equal(new DoesNotFit(33554432, "measured", 2L << 30), DoesNotFit.FromRefusal(Refusal, 2L << 30));
        Assert.Equal("does not fit: needs 32.0 MiB (measured), slice holds 16.0 MiB", DoesNotFit.FromRefusal(Refusal, null)!.Text);
        Assert.Null(DoesNotFit.FromRefusal("inputs exceed this agent's limit of 100 bytes per run", null));
    }

    [Fact]
    public void CosineIsOneAndTheDifferenceZeroForIdenticalOutputsAndBelowOneForPerturbedOnes()
    {
        double[] reference = [1, -2, 3, 0.5];

        OutputAccuracy same = AccuracyCheck.Of(0, [4], reference, reference);
        OutputAccuracy perturbed = AccuracyCheck.Of(1, [2, 2], reference, [1.001, -2, 2.99, 0.5]);
        OutputAccuracy opposite = AccuracyCheck.Of(2, [4], reference, [-1, 2, -3, -0.5]);
        OutputAccuracy overflow = AccuracyCheck.Of(3, [4], reference, [1, double.PositiveInfinity, double.NaN, 0.5]);

        Assert.Equal(1.0, same.CosineSimilarity!.Value, 12);
        Assert.Equal(0.0, same.MaxAbsDifference!.Value);
        Assert.InRange(perturbed.CosineSimilarity!.Value, 0.9999, 0.999999);
        Assert.Equal(0.01, perturbed.MaxAbsDifference!.Value, 9);
        Assert.Equal(-1.0, opposite.CosineSimilarity!.Value, 9);
        Assert.Equal((null, null, 2), (overflow.CosineSimilarity, overflow.MaxAbsDifference, overflow.NonFiniteElements));
    }

    [Fact]
    public void OutputsOfAnotherShapeOrCountAreNotCheckedWithTheReason()
    {
        Tensor a = Tensor.FromArray([1f, 2f], 1, 2);
        Tensor b = Tensor.FromArray([1f, 2f], 2, 1);

        Assert.Equal("output 0 has shape [2, 1] at fp16 but [1, 2] at fp32", AccuracyCheck.Compare("fp16", [a], [b]).NotCheckedReason);
        Assert.Equal("the model returned 2 outputs at fp16 but 1 at fp32", AccuracyCheck.Compare("fp16", [a], [a, a]).NotCheckedReason);
        AccuracyResult fine = AccuracyCheck.Compare("fp16", [a, a], [a, Tensor.FromArray([(Half)1, (Half)2], 1, 2)]);
        Assert.Equal(1.0, fine.MinCosineSimilarity!.Value, 12);
        Assert.Equal(0.0, fine.MaxAbsDifference!.Value);
    }
}
