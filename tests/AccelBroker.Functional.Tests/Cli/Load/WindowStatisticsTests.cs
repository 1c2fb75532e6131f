using AccelBroker.Cli.Load;
using AccelBroker.Cli.Measuring;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Cli.Load;

/// <summary>Stability windows, the stability test and the confidence intervals, on fabricated records with known timing.</summary>
public sealed class WindowStatisticsTests
{
    private static readonly WindowRule HalfSecond = new(TimeSpan.FromMilliseconds(500));

    [Fact]
    public void AWindowClosesAtItsLengthOnceItHoldsFiftyCalls()
    {
        // A call completes every 10 ms (started at i x 10 ms, 5 ms each): 500 ms hold 50 calls.
        RequestRecord[] records = [.. Enumerable.Range(0, 200).Select(i => Record(i * 10, 5))];

        IReadOnlyList<LoadWindow> windows = WindowSplitter.Split(records, HalfSecond);

        // The first completion at or past 500 ms is call 50 (505 ms): 51 calls; the next windows open where the last
        // closed; the 49 calls after the third are fewer than a window needs and join it.
        Assert.Equal([51, 50, 99], windows.Select(w => w.Requests));
        Assert.Equal(TimeSpan.FromMilliseconds(505), windows[0].End);
        Assert.Equal(windows[0].End, windows[1].Start);
        Assert.Equal(200, windows.Sum(w => w.Requests));
        Assert.Equal(51 / 0.505, windows[0].RequestsPerSecond, 9);
        Assert.Equal(5, windows[0].MeanLatencyMs, 9);
    }

    [Fact]
    public void AWindowWithTooFewCallsIsExtendedAndAShortTailJoinsTheLastWindow()
    {
        // One call every 100 ms: 500 ms hold 5, so each window runs on until it has 50 (about 5 s).
        RequestRecord[] records = [.. Enumerable.Range(0, 120).Select(i => Record(i * 100, 1))];

        IReadOnlyList<LoadWindow> windows = WindowSplitter.Split(records, HalfSecond);

        // 50 and 50 close windows; the last 20 are fewer than a window needs and join the second.
        Assert.Equal([50, 70], windows.Select(w => w.Requests));
        Assert.Equal(TimeSpan.FromMilliseconds((119 * 100) + 1), windows[^1].End);
    }

    [Fact]
    public void FewerCallsThanAWindowNeedsAreOneWindowAndHaveNoConfidenceInterval()
    {
        RequestRecord[] records = [.. Enumerable.Range(0, 20).Select(i => Record(i * 10, 3))];

        IReadOnlyList<LoadWindow> windows = WindowSplitter.Split(records, HalfSecond);
        var statistics = LoadStatistics.Of(records, windows, stable: false, TimeSpan.FromMilliseconds(193), notIssued: 0);

        Assert.Equal(20, Assert.Single(windows).Requests);
        Assert.Null(statistics.MeanLatencyCi);
        Assert.Null(statistics.RequestsPerSecondCi);
        Assert.Null(LoadCosts.Of(statistics, batch: 4, pricePerHour: 1).CostPerMillionItemsCi);
    }

    [Fact]
    public void FailuresAreCountedByStatusAndLeftOutOfLatencyAndThroughput()
    {
        RequestRecord[] records =
        [
            Record(0, 10), Record(10, 20), Record(20, 1, StatusCode.ResourceExhausted), Record(30, 1, StatusCode.ResourceExhausted),
            Record(40, 1, StatusCode.DeadlineExceeded), Record(50, 30),
        ];

        var statistics = LoadStatistics.Of(records, WindowSplitter.Split(records, HalfSecond), stable: false, TimeSpan.FromSeconds(2), notIssued: 3);

        Assert.Equal((6, 3, 3), (statistics.Requests, statistics.Succeeded, statistics.NotIssued));
        Assert.Equal(new Dictionary<string, int> { ["ResourceExhausted"] = 2, ["DeadlineExceeded"] = 1 }, statistics.FailuresByStatus);
        Assert.Equal(20, statistics.LatencyMs!.MeanMs, 9);
        Assert.Equal(30, statistics.LatencyMs.P95Ms);
        Assert.Equal(1.5, statistics.RequestsPerSecond, 9);
    }

    [Theory]
    [InlineData(new[] { 300.0, 100, 105, 95 }, true)]
    [InlineData(new[] { 100.0, 100, 125 }, false)]
    [InlineData(new[] { 100.0, 100 }, false)]
    public void StableWhenTheLastThreeWindowsAgreeWithinTenPercent(double[] throughputs, bool stable)
    {
        LoadWindow[] windows = [.. throughputs.Select((t, i) => Window(i, t, p95: 10))];

        Assert.Equal(stable, Stability.IsStable(windows, HalfSecond));
    }

    [Fact]
    public void P95MustAgreeToo()
    {
        LoadWindow[] windows = [Window(0, 100, 10), Window(1, 100, 10), Window(2, 100, 12)];

        Assert.False(Stability.IsStable(windows, HalfSecond));
    }

    [Fact]
    public void TheIntervalIsStudentsTOverTheWindowValues()
    {
        // Mean 12, s = 2, k = 3: 12 ± 4.303 x 2 / √3.
        ConfidenceInterval ci = ConfidenceInterval.Over([10, 12, 14])!;

        double half = 4.303 * 2 / Math.Sqrt(3);
        Assert.Equal(12 - half, ci.Low, 9);
        Assert.Equal(12 + half, ci.High, 9);
        Assert.Null(ConfidenceInterval.Over([10]));
        Assert.Equal(2.042, ConfidenceInterval.CriticalValue(30));
        Assert.Equal(1.980, ConfidenceInterval.CriticalValue(500));
    }

    [Fact]
    public void CostIntervalsFollowFromTheLatencyAndThroughputIntervals()
    {
        // Three windows of 100, 110 and 120 requests/s at mean latencies 8, 9 and 10 ms; batch 2 at $3.6/h.
        LoadWindow[] windows = [Window(0, 100, 10, mean: 8), Window(1, 110, 10, mean: 9), Window(2, 120, 10, mean: 10)];
        var statistics = new LoadStatistics(330, 330, new Dictionary<string, int>(), 0, null, 110, 3, windows, true,
            ConfidenceInterval.Over([8, 9, 10]), ConfidenceInterval.Over([100, 110, 120]));

        var costs = LoadCosts.Of(statistics, batch: 2, pricePerHour: 3.6);

        ConfidenceInterval items = costs.ItemsPerSecondCi!;
        Assert.Equal(statistics.RequestsPerSecondCi!.Low * 2, items.Low, 9);
        // $3.6/h is $0.001/s: a million items at x items/s cost 1000 / x; a faster bound is the cheaper one.
        Assert.Equal(1000 / items.High, costs.CostPerMillionItemsCi!.Low, 9);
        Assert.Equal(1000 / items.Low, costs.CostPerMillionItemsCi.High, 9);
        Assert.Equal(1000 / 220.0, costs.CostPerMillionItems!.Value, 9);
        // 100k inferences at m ms each cost 0.001 x m / 1000 x 100000 = 0.1 m.
        Assert.Equal(statistics.MeanLatencyCi!.Low * 0.1, costs.CostPer100kCi!.Low, 9);
        Assert.Equal(statistics.MeanLatencyCi.High * 0.1, costs.CostPer100kCi.High, 9);
    }

    private static RequestRecord Record(double startMs, double latencyMs, StatusCode status = StatusCode.OK) =>
        new(TimeSpan.FromMilliseconds(startMs), TimeSpan.FromMilliseconds(startMs), latencyMs, status);

    private static LoadWindow Window(int index, double throughput, double p95, double mean = 5) =>
        new(index, TimeSpan.FromSeconds(index), TimeSpan.FromSeconds(index + 1), 100, 100, throughput, mean, p95);
}
