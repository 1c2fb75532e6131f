using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;
using AccelBroker.Cli.Sweeping;
using Xunit;

namespace AccelBroker.Tests.Cli.Sweeping;

/// <summary>The knee, the best cell under an SLO and the not-distinguishable marks, on fabricated cells with known throughput.</summary>
public sealed class SweepAnalysisTests
{
    // fp32: throughput rises with batch until 8, where it is within 5 % of the best (batch 16); P95 grows with batch.
    private static readonly SweepCell[] Fp32 =
    [
        Cell("fp32", 1, 1, 100, p95: 5), Cell("fp32", 1, 2, 180, p95: 6),
        Cell("fp32", 4, 1, 380, p95: 12), Cell("fp32", 4, 2, 500, p95: 15, ci: (480, 520)),
        Cell("fp32", 8, 1, 450, p95: 25), Cell("fp32", 8, 2, 520, p95: 30, ci: (505, 535)),
        Cell("fp32", 16, 1, 510, p95: 45), Cell("fp32", 16, 2, 530, p95: 50, ci: (515, 545)),
    ];

    [Fact]
    public void TheKneeIsTheSmallestBatchWithinFivePercentOfTheBestAtItsPrecision()
    {
        SweepAnalysis analysis = SweepAnalysis.Of(Fp32, p95SloMs: null);

        SweepAnalysis.Knee knee = Assert.Single(analysis.Knees);
        // 5 % under 530 is 503.5: batch 8's 520 is within it, batch 4's 500 is not.
        Assert.Equal(("fp32", 8), (knee.Precision, knee.Batch));
        Assert.Equal("fp32 batch 8 x 2", knee.Cell.Name);
        Assert.Equal("fp32 batch 16 x 2", knee.BestCell.Name);
        // Batch 4's interval (480..520) overlaps the best's (515..545): it cannot be told from the best either.
        Assert.Equal([4], knee.NotDistinguishableBatches);
    }

    [Fact]
    public void EachPrecisionHasItsOwnKnee()
    {
        // 5 % under 1000 is 950: batch 1's 960 is within it.
        SweepCell[] fp16 = [Cell("fp16", 1, 1, 960, p95: 2), Cell("fp16", 4, 1, 1000, p95: 4), Cell("fp16", 8, 1, 990, p95: 8)];

        SweepAnalysis analysis = SweepAnalysis.Of([.. Fp32, .. fp16], p95SloMs: null);

        Assert.Equal([("fp32", 8), ("fp16", 1)], analysis.Knees.Select(k => (k.Precision, k.Batch)));
        Assert.Equal("fp16 batch 4 x 1", analysis.Best!.Name);
    }

    [Fact]
    public void TheBestCellIsTheFastestThatMeetsTheSloAndOverlappingCellsAreMarked()
    {
        SweepAnalysis analysis = SweepAnalysis.Of(Fp32, p95SloMs: 40);

        // Batch 16 misses P95 <= 40 ms; of the rest, batch 8 x 2 is fastest; batch 4 x 2's interval overlaps it.
        Assert.Equal("fp32 batch 8 x 2", analysis.Best!.Name);
        Assert.Equal("highest throughput with P95 <= 40 ms", analysis.BestReason);
        Assert.Equal(["fp32 batch 4 x 2"], analysis.NotDistinguishableFromBest.Select(c => c.Name));
    }

    [Fact]
    public void NoCellUnderTheSloMeansNoBestAndSaysWhy()
    {
        SweepAnalysis analysis = SweepAnalysis.Of(Fp32, p95SloMs: 1);

        Assert.Null(analysis.Best);
        Assert.Equal("no measured cell meets P95 <= 1 ms", analysis.BestReason);
        Assert.Empty(analysis.NotDistinguishableFromBest);
    }

    [Fact]
    public void CellsNotMeasuredAreLeftOutOfKneeAndBest()
    {
        SweepCell[] cells = [.. Fp32, SweepCell.NotMeasured("bf16", 1, 1, "the model did not load at bf16")];

        SweepAnalysis analysis = SweepAnalysis.Of(cells, p95SloMs: null);

        Assert.Equal(["fp32"], analysis.Knees.Select(k => k.Precision));
        Assert.Equal("fp32 batch 16 x 2", analysis.Best!.Name);
    }

    [Theory]
    [InlineData("fp32,fp8", "1", "1", "--precision takes fp32, fp16 and bf16, comma-separated, got 'fp8'")]
    [InlineData("fp32", "1,0", "1", "--batch takes comma-separated integers from 1 to 65536, such as 1,4,8, got '1,0'")]
    [InlineData("fp32", "1", "x", "--concurrency takes comma-separated integers from 1 to 1024, such as 1,4,8, got 'x'")]
    [InlineData("fp32", ",", "1", "--batch needs at least one value, e.g. --batch 1,4,8")]
    public void ABadGridIsRefusedWithItsOption(string precisions, string batches, string concurrencies, string expected)
    {
        CliException error = Assert.Throws<CliException>(() => SweepGrid.Parse(precisions, batches, concurrencies));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void TheGridIsSortedAndDeduplicated()
    {
        var grid = SweepGrid.Parse("fp32,fp16", "8,1,4,4", "2,1");

        Assert.Equal([1, 4, 8], grid.Batches);
        Assert.Equal([1, 2], grid.Concurrencies);
        Assert.Equal(12, grid.Cells);
    }

    private static SweepCell Cell(string precision, int batch, int callers, double inferencesPerSecond, double p95, (double Low, double High)? ci = null) =>
        new(precision, batch, callers, 100, 100, new Dictionary<string, int>(), new LatencySummary(100, p95 / 2, p95 / 2, p95 * 0.9, p95, p95 * 1.1, 0.1, p95 * 2),
            inferencesPerSecond / batch, inferencesPerSecond, ci is { } c ? new ConfidenceInterval(c.Low, c.High) : null, 1.0 / inferencesPerSecond, null, 3, true);
}
