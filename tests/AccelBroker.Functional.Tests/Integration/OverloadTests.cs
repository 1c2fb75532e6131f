using System.Diagnostics;
using System.Text.Json;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Slices;
using AccelBroker.Cli.Hosting;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Overload that fails fast (issue 13): with the agent's one execution slot held by a runaway model on another
/// slice, a slice's runs past <c>--max-queue-per-slice</c> are refused at once, a run whose deadline passes while
/// queued is dropped unexecuted, and both are counted per slice in the agent's metrics, GetUsage and
/// <c>accel usage</c>.
/// </summary>
/// <remarks>
/// The slot is held by <c>hazards/spin_on_run.pt</c> on a positive input, which never returns: the agent stops it
/// (and its slice's worker) a second after its caller's deadline. Until then nothing else can execute, so what is
/// queued and what is refused does not depend on timing; every wait is bounded.
/// </remarks>
[Collection(TimingSensitiveCollection.Name)]
public sealed class OverloadTests
{
    private const int QueueLimit = 2;
    private const int Callers = 5;

    // The runaway holds the slot until this passes (plus the agent's second of grace): long enough that the calls
    // below all arrive on a busy 2-core machine first, and the short one's deadline passes while it waits.
    private static readonly TimeSpan BlockerTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task RunsPastTheQueueLimitAreRefusedAtOnceAndAnExpiredRunIsDroppedUnexecutedAndBothAreCounted()
    {
        await using LoopbackFleet fleet = await LoopbackFleet.StartAsync(new LoopbackFleetOptions
        {
            ExecutionSlots = 1,
            MaxQueuePerSlice = QueueLimit,
            AgentMemoryBytes = 16L << 30,
            EnableMetrics = true,
            HeartbeatInterval = TimeSpan.FromSeconds(1),
        });
        TestCredentials.Register(fleet.BrokerUrl, fleet.AdminKey);
        try
        {
            await RunAsync(fleet);
        }
        finally
        {
            TestCredentials.Forget(fleet.BrokerUrl);
        }
    }

    private static async Task RunAsync(LoopbackFleet fleet)
    {
        const string Host = "overload-host";
        ComputeScheduler scheduler = fleet.Agent.Services.GetRequiredService<ComputeScheduler>();
        SliceRegistry slices = fleet.Agent.Services.GetRequiredService<SliceRegistry>();
        Accelerator blockerSlice = await fleet.AttachAsync(Host, "eia2.medium");
        Accelerator busySlice = await fleet.AttachAsync(Host, "eia2.medium");
        Accelerator lateSlice = await fleet.AttachAsync(Host, "eia2.medium");
        await using AcceleratorSession blocker = await fleet.OpenSessionAsync(Host, blockerSlice.Ordinal, new AcceleratorSessionOptions { CallTimeout = BlockerTimeout });
        await using AcceleratorSession busy = await fleet.OpenSessionAsync(Host, busySlice.Ordinal, new AcceleratorSessionOptions { UsageReportInterval = TimeSpan.Zero });
        await using AcceleratorSession lateLoader = await fleet.OpenSessionAsync(Host, lateSlice.Ordinal, new AcceleratorSessionOptions { UsageReportInterval = TimeSpan.Zero });
        // The short deadline is for the one run only: a load under it failed on a busy machine (RunawayModelTests).
        await using AcceleratorSession late = await fleet.OpenSessionAsync(Host, lateSlice.Ordinal, new AcceleratorSessionOptions { CallTimeout = ShortTimeout, UsageReportInterval = TimeSpan.Zero });

        // Every load before the slot is taken: a load needs the slot too.
        RemoteModel spinner = await blocker.LoadModelAsync(Fixtures.Path("hazards/spin_on_run.pt"), new ModelLoadOptions { WarmupInputs = [(TensorDataType.Float32, [1, 4])] });
        RemoteModel busyModel = await busy.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        RemoteModel lateModel = await lateLoader.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        float[] expected = Fixtures.Npy("demo_mlp.output0.npy").ToSingleArray();
        double lateComputeBefore = scheduler.UsageOf(lateSlice.Id).SecondsUsed;

        Task<ModelOutput> runaway = blocker.RunAsync(spinner, [Tensor.FromArray([1f, 1f, 1f, 1f], 1, 4)]);
        await WaitUntilAsync(() => scheduler.UsageOf(blockerSlice.Id).Running == 1, "the runaway run holds the slot");

        // Queue limit: of the callers, exactly the excess is refused, at once, naming the limit and its flag. The
        // last is a streaming run (its input is over the unary limit): the bound covers those too.
        Task<ModelOutput>[] calls = new Task<ModelOutput>[Callers];
        for (int i = 0; i < Callers - 1; i++)
        {
            calls[i] = busy.RunAsync(busyModel, [input]);
        }

        calls[^1] = busy.RunAsync(busyModel, [Tensor.Zeros(TensorDataType.Float32, 50_000, 16)]);

        // With the slot held none can complete but by refusal: once the excess has, the rest are the queued ones.
        var open = new List<Task>(calls);
        for (int i = 0; i < Callers - QueueLimit; i++)
        {
            open.Remove(await Task.WhenAny(open).WaitAsync(Bound));
        }

        RpcException[] refused = [.. calls.Where(c => c.IsCompleted).Select(c => Assert.IsType<RpcException>(c.Exception?.InnerException))];
        Assert.Equal(Callers - QueueLimit, refused.Length);
        Assert.All(refused, error =>
        {
            Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
            Assert.Equal($"slice {busySlice.Id} queue is full (max-queue-per-slice = {QueueLimit}); refused without waiting, send fewer runs at once", error.Status.Detail);
        });
        int[] admitted = [.. Enumerable.Range(0, Callers).Where(i => !calls[i].IsCompleted)];
        Assert.Equal(QueueLimit, admitted.Length);
        Assert.Equal(QueueLimit, slices.Get(busySlice.Id).Queue.Queued);

        // Deadline: a run that waits past its call's deadline answers DeadlineExceeded, and never ran.
        RpcException expired = await Assert.ThrowsAsync<RpcException>(() => late.RunAsync(lateModel, [input]).WaitAsync(Bound));
        Assert.Equal(StatusCode.DeadlineExceeded, expired.StatusCode);
        Assert.False(runaway.IsCompleted, "the runaway still held the slot when the short call expired");
        // The client's deadline and the agent's fire independently: the agent lets go of the waiter soon after.
        await WaitUntilAsync(() => scheduler.UsageOf(lateSlice.Id).Waiting == 0 && slices.Get(lateSlice.Id).Queue.Queued == 0, "the agent let go of the expired run's waiter and queue place");
        Assert.False(runaway.IsCompleted, "the expired run was let go of while the runaway still held the slot, unexecuted");

        // The runaway is stopped past its deadline; then the admitted runs execute, with the right answers.
        RpcException stopped = await Assert.ThrowsAsync<RpcException>(() => runaway.WaitAsync(Bound));
        Assert.Equal(StatusCode.DeadlineExceeded, stopped.StatusCode);
        await Task.WhenAll(admitted.Select(i => calls[i])).WaitAsync(Bound);
        Tensor zeros = Tensor.Zeros(TensorDataType.Float32, 50_000, 16);
        foreach (int i in admitted)
        {
            // The streamed one's answer is checked against the same input run alone, now.
            float[] answer = i < Callers - 1 ? expected : (await busy.RunAsync(busyModel, [zeros]).WaitAsync(Bound))[0].ToSingleArray();
            AssertClose(answer, (await calls[i])[0].ToSingleArray());
        }

        // Nothing leaked: no place, waiter or slot is left, and both slices serve at once.
        Assert.Equal(0, slices.Get(busySlice.Id).Queue.Queued);
        Assert.Equal(new ComputeUsage(0, scheduler.UsageOf(busySlice.Id).SecondsUsed, 0), scheduler.UsageOf(busySlice.Id));
        ModelOutput[] again = await Task.WhenAll(busy.RunAsync(busyModel, [input]), busy.RunAsync(busyModel, [input])).WaitAsync(Bound);
        Assert.All(again, output => AssertClose(expected, output[0].ToSingleArray()));
        Assert.Equal(lateComputeBefore, scheduler.UsageOf(lateSlice.Id).SecondsUsed);
        AssertClose(expected, (await lateLoader.RunAsync(lateModel, [input]).WaitAsync(Bound))[0].ToSingleArray());

        // Counted per slice: in the agent's scrape, then with a heartbeat in GetUsage and accel usage --json.
        PrometheusScrape scrape = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
        Assert.Equal(Callers - QueueLimit, scrape.Value("accelbroker_agent_slice_rejected_queue_full_total", ("slice", busySlice.Id)));
        Assert.Equal(1, scrape.Value("accelbroker_agent_slice_dropped_deadline_total", ("slice", lateSlice.Id)));

        AcceleratorUsage busyUsage = await WaitForUsageAsync(fleet, Host, busySlice.Ordinal, u => u.Inferences >= QueueLimit + 2);
        Assert.Equal(Callers - QueueLimit, busyUsage.RejectedQueueFull);
        Assert.Equal(0, busyUsage.DroppedDeadline);
        Assert.Equal(0, busyUsage.Failures);
        Assert.Equal(Callers - QueueLimit, Assert.Single(busyUsage.Models).RejectedQueueFull);
        AcceleratorUsage lateUsage = await WaitForUsageAsync(fleet, Host, lateSlice.Ordinal, u => u.Inferences >= 1);
        Assert.Equal(1, lateUsage.DroppedDeadline);
        Assert.Equal(0, lateUsage.RejectedQueueFull);
        // The dropped run is in neither inferences nor failures: only the run after it executed.
        Assert.Equal((1, 0), (lateUsage.Inferences, lateUsage.Failures));

        CliProcess.Result json = await CliInProcess.RunAsync("usage", "--host", Host, "--json", "--broker", fleet.BrokerUrl);
        Assert.True(json.ExitCode == 0, json.StdErr);
        using JsonDocument document = JsonDocument.Parse(json.StdOut);
        Dictionary<string, JsonElement> shown = document.RootElement.GetProperty("accelerators").EnumerateArray().ToDictionary(a => a.GetProperty("id").GetString()!);
        Assert.Equal(Callers - QueueLimit, shown[busySlice.Id].GetProperty("rejected_queue_full").GetInt64());
        Assert.Equal(1, shown[lateSlice.Id].GetProperty("dropped_deadline").GetInt64());
        Assert.Equal(1, Assert.Single(shown[lateSlice.Id].GetProperty("models").EnumerateArray()).GetProperty("dropped_deadline").GetInt64());

        CliProcess.Result table = await CliInProcess.RunAsync("usage", "--host", Host, "--ordinal", busySlice.Ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture), "--broker", fleet.BrokerUrl);
        Assert.True(table.ExitCode == 0, table.StdErr);
        Assert.Contains($"overload: {Callers - QueueLimit} refused (queue full), 0 dropped (deadline passed while queued)", table.StdOut);
    }

    private static async Task<AcceleratorUsage> WaitForUsageAsync(LoopbackFleet fleet, string host, int ordinal, Func<AcceleratorUsage, bool> done)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            GetUsageResponse response = await fleet.BrokerClient.GetUsageAsync(new GetUsageRequest { Host = host, Ordinal = ordinal }, deadline: LoopbackFleet.Deadline());
            AcceleratorUsage usage = Assert.Single(response.Accelerators);
            if (done(usage) || waited.Elapsed > Bound)
            {
                return usage;
            }

            await Task.Delay(200);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < Bound, $"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.All(expected.Zip(actual), pair => Assert.Equal(pair.First, pair.Second, 1e-4f));
    }
}
