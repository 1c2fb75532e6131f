using AccelBroker.Cli.Comparing;
using AccelBroker.Cli.Infrastructure;
using Xunit;

namespace AccelBroker.Tests.Cli.Comparing;

/// <summary>The chart's latency axis, legend and notes as pure functions of fabricated rows.</summary>
public sealed class CompareChartLayoutTests
{
    [Fact]
    public void AnSloFarAboveEveryP90IsANoteAndTheAxisFitsThePoints()
    {
        CompareChartLayout.LatencyAxis axis = CompareChartLayout.FitLatency([0.4, 1.2, 0.9], sloMs: 15);

        Assert.False(axis.SloOnAxis);
        Assert.Equal(1.2 * CompareChartLayout.Headroom, axis.Max, 9);
        CompareRow drawn = Measured("c5.xlarge", CompareRow.StandaloneCpu);
        CompareRow tooSmall = CompareRow.NotMeasured("c5.large + tiny", CompareRow.HostAccelerator, "c5.large", "tiny", 0.1, 1, 1, "", new DoesNotFit(2048, "measured", 1024));
        Assert.Equal(
            ["SLO P90 < 15 ms: above every P90, not drawn to scale", "c5.large + tiny: does not fit: needs 2.0 KiB (measured), slice holds 1.0 KiB"],
            CompareChartLayout.Notes([drawn, tooSmall], axis, "P90 < 15 ms"));
    }

    [Theory]
    [InlineData(12.0, 15.0, true, 15.0)]
    [InlineData(10.0, 15.0, true, 15.0)]
    [InlineData(9.0, 15.0, false, 9.0)]
    [InlineData(20.0, 15.0, true, 20.0)]
    public void AnSloNearThePointsIsDrawnAndIncludedInTheAxis(double highestP90, double slo, bool onAxis, double top)
    {
        CompareChartLayout.LatencyAxis axis = CompareChartLayout.FitLatency([highestP90 / 2, highestP90], slo);

        Assert.Equal(onAxis, axis.SloOnAxis);
        Assert.Equal(top * CompareChartLayout.Headroom, axis.Max, 9);
        Assert.Equal(onAxis ? 0 : 1, CompareChartLayout.Notes([], axis, "P90 < 15 ms").Count);
    }

    [Fact]
    public void TheLegendListsOnlyTheKindsDrawn()
    {
        CompareRow gpuNotMeasured = CompareRow.NotMeasured("g4dn.xlarge", CompareRow.StandaloneGpu, null, null, 0.526, 1, 1, "no healthy cuda agent", null);

        Assert.Equal([CompareRow.HostAccelerator, CompareRow.StandaloneCpu],
            CompareChartLayout.LegendKinds([Measured("c5.xlarge", CompareRow.StandaloneCpu), gpuNotMeasured, Measured("c5.large + eia2.medium", CompareRow.HostAccelerator)]));
        Assert.Equal([CompareRow.StandaloneCpu], CompareChartLayout.LegendKinds([Measured("c5.xlarge", CompareRow.StandaloneCpu), gpuNotMeasured]));
    }

    private static CompareRow Measured(string name, string kind) =>
        new(name, kind, null, null, "cpu", "closed loop", 1, 1, 1, new LatencySummary(1, 1, 1, 1, 1, 1, 1, 1), null, new CompareThroughput(1, 1, null), 1, null, 1, null, true, null, null, null);
}
