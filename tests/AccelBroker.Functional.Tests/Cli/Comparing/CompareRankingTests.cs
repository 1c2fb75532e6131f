using AccelBroker.Cli.Comparing;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;
using Xunit;

namespace AccelBroker.Tests.Cli.Comparing;

/// <summary>Ordering, ties, intervals and the baseline of <c>accel compare</c>, on fabricated rows.</summary>
public sealed class CompareRankingTests
{
    private const string By100k = CompareRanking.ByCostPer100k;

    [Fact]
    public void EqualCostsToTheDisplayedPrecisionAreOrderedByLowerP90AsSeed002ChoseC5OverM5()
    {
        // Seed 002: both $0.06 per 100k; c5.large's P90 (9.89 ms) is below m5.large's (10.77 ms).
        CompareRow m5 = Row("m5.large + eia2.medium", cost: 0.05851, p90: 10.77, measurement: 1);
        CompareRow c5 = Row("c5.large + eia2.medium", cost: 0.05849, p90: 9.89, measurement: 2);
        CompareRow cheaper = Row("cheaper", cost: 0.0500, p90: 50, measurement: 3);
        CompareRow dearer = Row("dearer", cost: 0.0586, p90: 1, measurement: 4);

        IReadOnlyList<CompareRow> ordered = CompareRanking.Order([m5, dearer, c5, cheaper], By100k);

        // 0.05851 and 0.05849 both show as $0.0585: a tie, broken by P90; $0.0586 is dearer whatever its P90.
        Assert.Equal(["cheaper", "c5.large + eia2.medium", "m5.large + eia2.medium", "dearer"], ordered.Select(r => r.Instance));
        Assert.Equal("cheaper", CompareRanking.Cheapest(ordered)!.Instance);
        // Three significant digits whatever the magnitude: a tiny model's cost per 100k is not all $0.0001.
        Assert.Equal(0.0000521, CompareRanking.Displayed(0.00005214), 12);
        Assert.Equal(123.0, CompareRanking.Displayed(123.4));
    }

    [Fact]
    public void UnmeasuredRowsComeLastDoesNotFitFirstAndTheCheapestMeetsTheSlo()
    {
        CompareRow fits = Row("fits", cost: 0.2, p90: 5, measurement: 1);
        CompareRow slow = Row("slow", cost: 0.1, p90: 50, measurement: 2, meetsSlo: false);
        CompareRow tooSmall = CompareRow.NotMeasured("c5.large + tiny", CompareRow.HostAccelerator, "c5.large", "tiny", 0.1, 1, 1, "", new DoesNotFit(32 << 20, "measured", 16 << 20));
        CompareRow noAgent = CompareRow.NotMeasured("g4dn.xlarge", CompareRow.StandaloneGpu, null, null, 0.526, 1, 1, "no healthy cuda agent", null);

        IReadOnlyList<CompareRow> ordered = CompareRanking.Order([noAgent, tooSmall, fits, slow], By100k);

        Assert.Equal(["slow", "fits", "c5.large + tiny", "g4dn.xlarge"], ordered.Select(r => r.Instance));
        Assert.Equal("fits", CompareRanking.Cheapest(ordered)!.Instance);
        Assert.Equal("does not fit: needs 32.0 MiB (measured), slice holds 16.0 MiB", ordered[2].NotMeasuredReason);
    }

    [Fact]
    public void RowsWhoseCostIntervalsOverlapAreNotDistinguishableUnlessTheyShareOneMeasurement()
    {
        CompareRow a = Row("a", cost: 1.00, p90: 1, measurement: 1, halfWidth: 0.05);
        CompareRow b = Row("b", cost: 1.08, p90: 1, measurement: 2, halfWidth: 0.05);
        CompareRow c = Row("c", cost: 1.20, p90: 1, measurement: 3, halfWidth: 0.05);
        CompareRow aAgain = Row("a'", cost: 1.02, p90: 1, measurement: 1, halfWidth: 0.05);

        IReadOnlyList<CompareRow> marked = CompareRanking.MarkIndistinguishable([a, b, c, aAgain], By100k);

        Assert.Equal(["b"], marked[0].NotDistinguishableFrom);
        Assert.Equal(["a", "a'"], marked[1].NotDistinguishableFrom);
        Assert.Empty(marked[2].NotDistinguishableFrom);
        Assert.Equal(["b"], marked[3].NotDistinguishableFrom);
    }

    [Fact]
    public void TheBaselineRatioIsThroughputOverTheBaselinesAndItsCostOverThisRowsAsSeed000()
    {
        // Seed 000, BERT batch 32 fp32: G5 723 items/s at $0.6 per million, G4dn 154 at $2.2: "3.7X".
        CompareRow g4dn = Row("g4dn.4xlarge", cost: 2.2, p90: 208, measurement: 1, itemsPerSecond: 154);
        CompareRow g5 = Row("g5.4xlarge", cost: 0.6, p90: 44, measurement: 2, itemsPerSecond: 723);
        CompareRow none = CompareRow.NotMeasured("p3.2xlarge", CompareRow.StandaloneGpu, null, null, 3.06, 32, 1, "no agent", null);

        IReadOnlyList<CompareRow> rows = CompareRanking.WithBaseline([g5, g4dn, none], "g4dn.4xlarge", CompareRanking.ByCostPerMillionItems);

        Assert.Equal(723.0 / 154, rows[0].VsBaseline!.ThroughputRatio!.Value, 9);
        Assert.Equal(2.2 / 0.6, rows[0].VsBaseline!.CostBenefit!.Value, 9);
        Assert.Equal((1.0, 1.0), (rows[1].VsBaseline!.ThroughputRatio!.Value, rows[1].VsBaseline!.CostBenefit!.Value));
        Assert.Equal(("g4dn.4xlarge", null, null), (rows[2].VsBaseline!.Baseline, rows[2].VsBaseline!.ThroughputRatio, rows[2].VsBaseline!.CostBenefit));
    }

    [Theory]
    [InlineData(1, 1, CompareRanking.ByCostPer100k)]
    [InlineData(4, 1, CompareRanking.ByCostPerMillionItems)]
    [InlineData(1, 2, CompareRanking.ByCostPerMillionItems)]
    public void OneRequestOfBatchOneAtATimeIsRankedAsSeed002AndAnythingElseByThroughput(long batch, int concurrency, string expected) =>
        Assert.Equal(expected, CompareRanking.RankedBy(batch, concurrency));

    [Fact]
    public void TheIntervalOfAMeanIsOverTenBatchMeansWithStudentsT()
    {
        // Batch means 1..10 (two runs each): mean 5.5, s = 3.0277, t(0.975, 9) = 2.262.
        double[] samples = [.. Enumerable.Range(1, 10).SelectMany(i => new double[] { i - 0.5, i + 0.5 })];

        ConfidenceInterval ci = ConfidenceInterval.OfBatchMeans(samples)!;

        double half = 2.262 * Math.Sqrt(Enumerable.Range(1, 10).Sum(i => (i - 5.5) * (i - 5.5)) / 9 / 10);
        Assert.Equal(5.5 - half, ci.Low, 9);
        Assert.Equal(5.5 + half, ci.High, 9);
        Assert.Null(ConfidenceInterval.OfBatchMeans([3.0]));
        Assert.Equal(new ConfidenceInterval(7, 7), ConfidenceInterval.OfBatchMeans([7.0, 7.0, 7.0]));
    }

    [Fact]
    public void TheIntervalOfARateIsOverTheBatchesCompletionRates()
    {
        // 20 completions, one every 0.1 s: every batch completes 2 in 0.2 s, 10 per second, no spread.
        double[] completed = [.. Enumerable.Range(1, 20).Select(i => i * 0.1)];

        ConfidenceInterval ci = ConfidenceInterval.OfBatchRates(completed, 10)!;

        Assert.Equal(10, ci.Low, 6);
        Assert.Equal(10, ci.High, 6);
    }

    private static CompareRow Row(string name, double cost, double p90, int measurement, bool meetsSlo = true, double halfWidth = 0, double itemsPerSecond = 100)
    {
        var latency = new LatencySummary(10, p90 * 0.9, p90 * 0.8, p90, p90, p90, p90 * 0.5, p90);
        var ci = new ConfidenceInterval(cost - halfWidth, cost + halfWidth);
        return new CompareRow(name, CompareRow.HostAccelerator, null, null, "cpu", "closed loop", 1, 1, 1, latency, null,
            new CompareThroughput(itemsPerSecond, itemsPerSecond, null), cost, ci, cost, ci, meetsSlo, null, null, null)
        {
            MeasurementId = measurement,
        };
    }
}
