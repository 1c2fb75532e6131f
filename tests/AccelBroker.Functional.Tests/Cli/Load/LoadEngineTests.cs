using AccelBroker.Cli.Load;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Cli.Load;

/// <summary>The load engine against fabricated calls: stop rules, failures by status, and the open loop's schedule.</summary>
public sealed class LoadEngineTests
{
    private static readonly WindowRule Windows = new(TimeSpan.FromMilliseconds(100));

    [Fact]
    public async Task AClosedLoopMakesExactlyTheCallsAskedForAndCountsFailuresByStatusWithoutStopping()
    {
        int calls = 0;
        LoadResult result = await LoadEngine.System.RunAsync(
            async _ =>
            {
                int n = Interlocked.Increment(ref calls);
                await Task.Yield();
                if (n % 10 == 0)
                {
                    throw new RpcException(new Status(StatusCode.ResourceExhausted, "queue full"));
                }

                if (n % 25 == 1)
                {
                    throw new InvalidDataException("not a gRPC failure");
                }
            },
            new LoadMode.Closed(8),
            StopRule.Count(1000, Windows),
            null,
            CancellationToken.None);

        Assert.Equal(1000, calls);
        Assert.Equal(1000, result.Records.Count);
        Assert.Equal(LoadEngine.StopRequests, result.StoppedBecause);
        var statistics = LoadStatistics.Of(result);
        Assert.Equal(100, statistics.FailuresByStatus["ResourceExhausted"]);
        Assert.Equal(40, statistics.FailuresByStatus["Unknown"]);
        Assert.Equal(860, statistics.Succeeded);
        Assert.Equal(1000, result.Windows.Sum(w => w.Requests));
    }

    [Fact]
    public async Task NoMoreThanTheCallersAreInFlightAtOnce()
    {
        int inFlight = 0, most = 0;
        await LoadEngine.System.RunAsync(
            async _ =>
            {
                int now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref most, now);
                await Task.Delay(1);
                Interlocked.Decrement(ref inFlight);
            },
            new LoadMode.Closed(4),
            StopRule.Count(200, Windows),
            null,
            CancellationToken.None);

        Assert.InRange(most, 1, 4);
    }

    [Fact]
    public async Task AnOpenLoopIssuesArrivalsAtTheSeededPoissonScheduleAndRecordsTheIntendedStarts()
    {
        LoadResult result = await LoadEngine.System.RunAsync(
            _ => Task.CompletedTask, new LoadMode.Open(2000, MaxOutstanding: 10_000, Seed: 7), StopRule.Count(300, Windows), null, CancellationToken.None);

        var schedule = new PoissonArrivals(2000, 7);
        TimeSpan[] expected = [.. Enumerable.Range(0, 300).Select(_ => schedule.Next())];
        Assert.Equal(expected, result.Records.Select(r => r.IntendedStart).Order());
        Assert.All(result.Records, r => Assert.True(r.Start >= r.IntendedStart - TimeSpan.FromMilliseconds(1.01)));
        Assert.Equal((300, 0), (result.Arrivals, result.NotIssued));
    }

    [Fact]
    public async Task ArrivalsPastTheOutstandingLimitAreCountedAsNotIssued()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        LoadResult result = await LoadEngine.System.RunAsync(
            async _ =>
            {
                Interlocked.Increment(ref calls);
                await gate.Task;
            },
            new LoadMode.Open(5000, MaxOutstanding: 1, Seed: 3),
            StopRule.Count(50, Windows),
            // The one call in flight is held until every other arrival has found the limit reached.
            p =>
            {
                if (p.NotIssued >= 49)
                {
                    gate.TrySetResult();
                }
            },
            CancellationToken.None);

        Assert.Equal(1, calls);
        Assert.Equal((50, 49), (result.Arrivals, result.NotIssued));
        Assert.Single(result.Records);
    }

    [Fact]
    public async Task AnInterruptionKeepsWhatCompletedAndDropsTheCallsItCutOff()
    {
        using var interrupt = new CancellationTokenSource();
        int calls = 0;
        LoadResult result = await LoadEngine.System.RunAsync(
            async ct =>
            {
                if (Interlocked.Increment(ref calls) > 20)
                {
                    await interrupt.CancelAsync();
                    await Task.Delay(Timeout.Infinite, ct);
                }
            },
            new LoadMode.Closed(1),
            StopRule.Count(1000, Windows),
            null,
            interrupt.Token);

        Assert.True(result.Interrupted);
        Assert.Equal(20, result.Records.Count);
        Assert.All(result.Records, r => Assert.True(r.Succeeded));
    }

    [Fact]
    public async Task UntilStableStopsOnceTheWindowsAgreeOrAtTheMostWindows()
    {
        // Calls of a steady 1 ms: windows of 50 calls agree at once, so the run stops at the first check after three.
        LoadResult result = await LoadEngine.System.RunAsync(
            _ => Task.Delay(1), new LoadMode.Closed(2), new StopRule(null, null, new WindowRule(TimeSpan.FromMilliseconds(20), MinRequests: 50), UntilStable: true, MaxWindows: 6), null, CancellationToken.None);

        Assert.Contains(result.StoppedBecause, new[] { LoadEngine.StopStable, LoadEngine.StopMaxWindows });
        Assert.InRange(result.Windows.Count, 3, 6 + 2);
    }

    [Fact]
    public void PoissonGapsHaveTheMeanAndSpreadOfTheRate()
    {
        var arrivals = new PoissonArrivals(200, seed: 42);
        double[] gaps = [.. Enumerable.Range(0, 20_000).Select(_ => arrivals.NextGap().TotalMilliseconds)];

        double mean = gaps.Average();
        double sd = Math.Sqrt(gaps.Sum(g => (g - mean) * (g - mean)) / (gaps.Length - 1));
        // Exponential gaps: mean = sd = 1 / rate = 5 ms; 20,000 samples put the mean within about 0.7 % (one sd).
        Assert.InRange(mean, 5 * 0.97, 5 * 1.03);
        Assert.InRange(sd, 5 * 0.95, 5 * 1.05);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PoissonArrivals(0, seed: 1));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
