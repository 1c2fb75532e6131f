using System.Diagnostics;
using System.Globalization;
using AccelBroker.Cli.Hosting;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Two slices on one agent with one execution slot, both saturated with the same model: the agent gives them
/// execution time in proportion to their compute shares, and lends an idle share out.
/// </summary>
/// <remarks>
/// Throughput follows the shares only where runs cost the same. On two cores shared with 64 callers and the agent,
/// they do not: the same model's runs took 10 ms in one slice's worker and 15 ms in the other's, either way round,
/// so runs per second came out 1.35 to 3.2 apart while the execution time stayed 2.00 to 2.05 apart. What is
/// judged is the execution time, as the agent's scrape and the callers' own timings each show it.
/// </remarks>
[Collection(TimingSensitiveCollection.Name)]
public sealed class FairShareTests
{
    private const string Host = "fair-host";
    private const string Model = "token_ids.pt";

    // token_ids.pt on [16, 256] ids: a forward pass of 5 to 10 ms on an idle 2-core machine, on 32 KiB of input
    // and 256 bytes of output, so the agent's scheduling, not moving tensors, sets the pace.
    private const int Batch = 16;
    private const int Length = 256;

    // A slice is saturated only while it has a run waiting whenever the slot frees. On two cores busy with
    // libtorch (and, on a shared machine, with other builds) a round trip outside the agent sometimes takes
    // hundreds of ms; with 4 to 16 callers the half slice then often had none waiting, and the quarter slice
    // rightly borrowed its turns. 32 callers keep a backlog through such stalls; waiting runs cost nothing.
    private const int CallersPerSlice = 32;

    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);
    // Long enough that one stall of the whole machine (CI saw 1.1 s in a 6 s window), charged to whichever
    // slice held the slot, is a small part of that slice's time, and the scheduler has time to even it out.
    private static readonly TimeSpan ContendedWindow = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan AloneWindow = TimeSpan.FromSeconds(3);

    private readonly ITestOutputHelper _output;

    public FairShareTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task SaturatedSlicesRunInProportionToTheirSharesAndALoneSliceBorrowsTheIdleShare()
    {
        await using LoopbackFleet fleet = await LoopbackFleet.StartAsync(
            new LoopbackFleetOptions { ExecutionSlots = 1, AgentMemoryBytes = 16L << 30, EnableMetrics = true });
        Accelerator large = await fleet.AttachAsync(Host, "eia2.large");
        Accelerator xlarge = await fleet.AttachAsync(Host, "eia2.xlarge");
        Assert.Equal((0.25, 0.5), (large.ComputeShare, xlarge.ComputeShare));
        await using AcceleratorSession largeSession = await fleet.OpenSessionAsync(Host, large.Ordinal);
        await using AcceleratorSession xlargeSession = await fleet.OpenSessionAsync(Host, xlarge.Ordinal);
        RemoteModel largeModel = await largeSession.LoadModelAsync(Fixtures.Path(Model));
        RemoteModel xlargeModel = await xlargeSession.LoadModelAsync(Fixtures.Path(Model));
        Tensor input = Input();

        await using var largeLoad = SaturatingLoad.Start(largeSession, largeModel, input);
        Throughput contendedLarge;
        Throughput contendedXlarge;
        double computeTimeRatio;
        double leastQueued;
        await using (var xlargeLoad = SaturatingLoad.Start(xlargeSession, xlargeModel, input))
        {
            // Counted over a window that starts once both have run for a while, and read from the agent's scrape too.
            await Task.Delay(Settle);
            PrometheusScrape first = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
            (contendedLarge, contendedXlarge) = await MeasureAsync(ContendedWindow, largeLoad, xlargeLoad);
            PrometheusScrape last = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
            computeTimeRatio = (ComputeTime(last, xlarge) - ComputeTime(first, xlarge)) / (ComputeTime(last, large) - ComputeTime(first, large));
            PrometheusScrape[] scrapes = [first, last];
            leastQueued = Math.Min(scrapes.Max(scrape => QueueDepth(scrape, large)), scrapes.Max(scrape => QueueDepth(scrape, xlarge)));
        }

        // Only the quarter slice busy: it borrows the half share nobody uses, and the rest. Judged by the share of
        // the slot it used, as the agent's scrape shows it: its throughput is compared with another window's, and
        // once a burst of other work on this machine made the runs of that window 2.5 times slower.
        await Task.Delay(Settle);
        var aloneElapsed = Stopwatch.StartNew();
        PrometheusScrape aloneFirst = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
        Throughput alone = (await MeasureAsync(AloneWindow, largeLoad)).Large;
        PrometheusScrape aloneLast = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
        double aloneShareUsed = (ComputeTime(aloneLast, large) - ComputeTime(aloneFirst, large)) / aloneElapsed.Elapsed.TotalSeconds;

        double ratio = contendedXlarge.PerSecond / contendedLarge.PerSecond;
        double executingRatio = contendedXlarge.Executing / contendedLarge.Executing;
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"contended: large {contendedLarge}, xlarge {contendedXlarge}; xlarge/large runs {ratio:F3}, execution time by callers {executingRatio:F3}, by the agent {computeTimeRatio:F3}"));
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"alone: large {alone}, {alone.PerSecond / contendedLarge.PerSecond:F2}x its contended throughput, {aloneShareUsed:F3} of the slot used"));
        Assert.InRange(computeTimeRatio, 1.6, 2.4);
        Assert.InRange(executingRatio, 1.6, 2.4);
        Assert.True(aloneShareUsed > 2 * large.ComputeShare, $"alone, the quarter slice used {aloneShareUsed:F3} of the slot");
        Assert.True(leastQueued >= 1, "while saturated, each slice had runs waiting in at least one scrape");
    }

    private static Tensor Input()
    {
        var random = new Random(20240601);
        long[] ids = new long[Batch * Length];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = random.Next(1000);
        }

        return Tensor.FromArray(ids, Batch, Length);
    }

    private static double ComputeTime(PrometheusScrape scrape, Accelerator slice) =>
        scrape.Value("accelbroker_agent_slice_compute_time_seconds_total", ("slice", slice.Id));

    private static double QueueDepth(PrometheusScrape scrape, Accelerator slice) =>
        scrape.Value("accelbroker_agent_slice_queue_depth", ("slice", slice.Id));

    private static async Task<(Throughput Large, Throughput Xlarge)> MeasureAsync(TimeSpan window, SaturatingLoad large, SaturatingLoad? xlarge = null)
    {
        (long Runs, TimeSpan Executing) largeBefore = large.Progress;
        (long Runs, TimeSpan Executing) xlargeBefore = xlarge?.Progress ?? default;
        var elapsed = Stopwatch.StartNew();
        await Task.Delay(window);
        (long Runs, TimeSpan Executing) largeAfter = large.Progress;
        (long Runs, TimeSpan Executing) xlargeAfter = xlarge?.Progress ?? default;
        double seconds = elapsed.Elapsed.TotalSeconds;
        large.ThrowIfEnded();
        xlarge?.ThrowIfEnded();
        return (
            new Throughput(largeAfter.Runs - largeBefore.Runs, seconds, largeAfter.Executing - largeBefore.Executing),
            new Throughput(xlargeAfter.Runs - xlargeBefore.Runs, seconds, xlargeAfter.Executing - xlargeBefore.Executing));
    }

    private readonly record struct Throughput(long Runs, double Seconds, TimeSpan Executing)
    {
        public double PerSecond => Runs / Seconds;

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Runs} runs in {Seconds:F2} s ({Executing.TotalMilliseconds / Math.Max(1, Runs):F1} ms executing each)");
    }

    /// <summary>Callers that each run the model again as soon as their last run returns, until stopped.</summary>
    private sealed class SaturatingLoad : IAsyncDisposable
    {
        // A hard bound besides the time: far more than a window holds at several ms a run.
        private const int MaxRunsPerCaller = 5_000;

        private readonly CancellationTokenSource _stop = new();
        private readonly Task[] _callers;
        private readonly Lock _gate = new();
        private long _completed;
        private TimeSpan _executing;

        private SaturatingLoad(AcceleratorSession session, RemoteModel model, Tensor input)
        {
            _callers = [.. Enumerable.Range(0, CallersPerSlice).Select(_ => Task.Run(() => CallAsync(session, model, input)))];
        }

        /// <summary>Runs completed, and the decode, compute and encode time the agent reported for them.</summary>
        public (long Runs, TimeSpan Executing) Progress
        {
            get
            {
                lock (_gate)
                {
                    return (_completed, _executing);
                }
            }
        }

        public static SaturatingLoad Start(AcceleratorSession session, RemoteModel model, Tensor input) => new(session, model, input);

        /// <summary>A caller that ended (failed or ran out of runs) would leave the slice unsaturated.</summary>
        public void ThrowIfEnded()
        {
            if (_callers.FirstOrDefault(caller => caller.IsCompleted) is { } ended)
            {
                ended.GetAwaiter().GetResult();
                throw new InvalidOperationException($"a caller ran out of its {MaxRunsPerCaller} runs during the measurement");
            }
        }

        /// <summary>Stops the callers and waits, bounded, for their last runs; a caller's failure surfaces here.</summary>
        public async ValueTask DisposeAsync()
        {
            try
            {
                await _stop.CancelAsync();
                await Task.WhenAll(_callers).WaitAsync(TimeSpan.FromSeconds(30));
            }
            finally
            {
                _stop.Dispose();
            }
        }

        // Runs are never cancelled midway: the stop is checked between them, so every counted run completed.
        private async Task CallAsync(AcceleratorSession session, RemoteModel model, Tensor input)
        {
            for (int i = 0; i < MaxRunsPerCaller && !_stop.IsCancellationRequested; i++)
            {
                ModelOutput output = await session.RunAsync(model, [input]);
                lock (_gate)
                {
                    _completed++;
                    _executing += output.Timing.Decode + output.Timing.Compute + output.Timing.Encode;
                }
            }
        }
    }
}
