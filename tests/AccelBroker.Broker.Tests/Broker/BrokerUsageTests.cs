using AccelBroker.Broker;
using AccelBroker.Client.Pricing;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using AccelBroker.Broker.Storage;
using AccelBroker.Broker.Usage;
using AccelBroker.Tests.Storage;
using Xunit;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Broker;

/// <summary>
/// Agents' usage through heartbeats, over real gRPC with a fake agent: kept when well formed and attached, replaced
/// by newer reports, added to only when the agent's counters started again, and kept across broker restarts with a
/// data directory.
/// </summary>
public sealed class BrokerUsageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private BrokerTestHost _broker = null!;
    private FakeAgent _agent = null!;

    private BrokerClient Broker => _broker.Client;

    public async Task InitializeAsync()
    {
        _broker = await BrokerTestHost.StartAsync(output);
        _agent = await FakeAgent.StartAsync(output);
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _agent.DisposeAsync();
    }

    [Fact]
    public async Task TheLatestWellFormedHeartbeatUsageIsShownAndPricedOnTheAgentsMean()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;
        Accelerator attached = (await Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium", HostType = "c5.large" })).Accelerator;

        await HeartbeatAsync(agentId, Usage(attached.Id, runs: 5, seconds: 0.010));
        await HeartbeatAsync(agentId, Usage(attached.Id, runs: 7, seconds: 0.010));

        AcceleratorUsage usage = await UsageAsync("host-a");
        Assert.Equal(7, usage.Inferences);
        Assert.Equal(2, usage.Failures);
        Assert.Equal(7, usage.AgentCompute.Count);
        Assert.Equal(0.006, usage.AgentCompute.MeanSeconds, 12);
        Assert.Equal(CostBasis.Agent, usage.CostBasis);
        Assert.Equal(0.085, usage.HostPricePerHour);
        Assert.Equal(0.12, usage.SlicePricePerHour);
        Assert.Equal(CostModel.PerHundredThousand(0.205, 0.010), usage.CostPer100K, 12);
        Assert.Equal((0.085 + 0.12) / 3600 * 0.010 * 100_000, usage.CostPer100K, 12);
        ModelUsageSummary model = Assert.Single(usage.Models);
        Assert.Equal(("m", 7L, 2L, 0L), (model.ModelId, model.Inferences, model.Failures, model.ClientEndToEnd.Count));
    }

    [Fact]
    public async Task AMalformedOrForeignSliceUsageIsIgnoredAndTheHeartbeatStillSucceeds()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;
        Accelerator attached = (await Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium" })).Accelerator;
        SliceUsage malformed = Usage(attached.Id, runs: 3, seconds: 0.010);
        malformed.Models[0].Compute.BucketCounts[0] = 0;

        HeartbeatResponse response = await HeartbeatAsync(agentId, malformed, Usage("acc-not-this-agents", runs: 4, seconds: 0.010));

        Assert.Equal([attached.Id], response.Slices.Select(s => s.SliceId));
        AcceleratorUsage usage = await UsageAsync("host-a");
        Assert.Equal(0, usage.Inferences);
        Assert.Equal(CostBasis.None, usage.CostBasis);
        Assert.Equal(0, usage.HostPricePerHour);

        await HeartbeatAsync(agentId, Usage(attached.Id, runs: 3, seconds: 0.010));
        Assert.Equal(3, (await UsageAsync("host-a")).Inferences);
    }

    [Fact]
    public async Task TheMemoryAHeartbeatChargesIsDescribedUntilDetach()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;
        Accelerator attached = (await Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium" })).Accelerator;
        Assert.Equal((0L, 0), (attached.MemoryChargedBytes, attached.ModelsResident));
        Assert.Equal((0L, 0), Memory(await DescribeAsync("host-a")));

        SliceUsage usage = Usage(attached.Id, runs: 1, seconds: 0.010);
        var state = new SliceState { SliceId = attached.Id };
        (state.MemoryChargedBytes, state.ModelsResident) = (6432, 1);
        await HeartbeatAsync(agentId, [state], usage);
        Assert.Equal((6432L, 1), Memory(await DescribeAsync("host-a")));
        Assert.Equal((6432L, 1), Memory(Assert.Single(Assert.Single((await Broker.DescribeAgentsAsync(new DescribeAgentsRequest())).Agents).Accelerators)));

        // Each heartbeat replaces the figures: the agent reports what is resident now, not a total.
        (state.MemoryChargedBytes, state.ModelsResident) = (3 * 6432, 3);
        await HeartbeatAsync(agentId, [state], usage);
        Assert.Equal((3 * 6432L, 3), Memory(await DescribeAsync("host-a")));

        await Broker.DetachAsync(new DetachRequest { Host = "host-a", Ordinal = attached.Ordinal });
        Assert.Empty((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "host-a" })).Accelerators);

        // A late heartbeat for the detached slice is not kept, and the ordinal's next accelerator starts from nothing.
        await HeartbeatAsync(agentId, [state], usage);
        Accelerator again = (await Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium" })).Accelerator;
        Assert.Equal(attached.Ordinal, again.Ordinal);
        Assert.Equal((0L, 0), Memory(await DescribeAsync("host-a")));
    }

    [Fact]
    public async Task NegativeMemoryFiguresAreIgnoredAndTheHeartbeatStillSucceeds()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;
        Accelerator attached = (await Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium" })).Accelerator;
        SliceUsage usage = Usage(attached.Id, runs: 1, seconds: 0.010);
        var state = new SliceState { SliceId = attached.Id };
        (state.MemoryChargedBytes, state.ModelsResident) = (-1, 1);

        HeartbeatResponse response = await HeartbeatAsync(agentId, [state], usage);

        Assert.Equal([attached.Id], response.Slices.Select(s => s.SliceId));
        Assert.Equal((0L, 0), Memory(await DescribeAsync("host-a")));
        Assert.Equal(0, (await UsageAsync("host-a")).Inferences);
    }

    [Fact]
    public async Task AfterAnAgentRestartItsNewCountersAreAddedToWhatItReportedBefore()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;
        Accelerator attached = (await Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium" })).Accelerator;
        await HeartbeatAsync(agentId, Usage(attached.Id, runs: 5, seconds: 0.010, incarnation: "before"));

        // The agent process restarted, registered under its id and was given the slice again: counters from zero.
        await _agent.RegisterAsync(Broker, agentId: agentId);
        await HeartbeatAsync(agentId, Usage(attached.Id, runs: 3, seconds: 0.020, incarnation: "after"));

        AcceleratorUsage usage = await UsageAsync("host-a");
        Assert.Equal(8, usage.Inferences);
        Assert.Equal(4, usage.Failures);
        Assert.Equal(8, usage.AgentTotal.Count);
        Assert.Equal(8, usage.AgentCompute.Count);
        Assert.Equal((5 * 0.010 + 3 * 0.020) / 8, usage.AgentTotal.MeanSeconds, 12);
        Assert.Equal(0.020, usage.AgentTotal.MaxSeconds, 12);
        ModelUsageSummary model = Assert.Single(usage.Models);
        Assert.Equal(("m", 8L, 4L), (model.ModelId, model.Inferences, model.Failures));

        // Later reports of the new incarnation replace its own earlier ones only.
        await HeartbeatAsync(agentId, Usage(attached.Id, runs: 4, seconds: 0.020, incarnation: "after"));
        Assert.Equal(9, (await UsageAsync("host-a")).Inferences);
    }

    [Fact]
    public async Task AnUnacceptableIncarnationIsIgnored()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;
        Accelerator attached = (await Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium" })).Accelerator;

        await HeartbeatAsync(agentId, Usage(attached.Id, runs: 5, seconds: 0.010, incarnation: new string('x', 300)));

        Assert.Equal(0, (await UsageAsync("host-a")).Inferences);
    }

    [Fact]
    public async Task UsageSurvivesABrokerRestartWithADataDirectory()
    {
        string dataDir = Directory.CreateTempSubdirectory("accelbroker-data-").FullName;
        try
        {
            var options = new BrokerOptions { DataDir = dataDir };
            AcceleratorUsage before;
            Accelerator detached;
            await using (BrokerTestHost first = await BrokerTestHost.StartAsync(output, options))
            {
                string agentId = (await _agent.RegisterAsync(first.Client)).AgentId;
                Accelerator kept = (await first.Client.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium", HostType = "c5.large" })).Accelerator;
                detached = (await first.Client.AttachAsync(new AttachRequest { Host = "host-b", SliceType = "eia2.medium" })).Accelerator;
                await first.Client.HeartbeatAsync(new HeartbeatRequest { AgentId = agentId, Usage = { Usage(kept.Id, runs: 5, seconds: 0.010, incarnation: "a"), Usage(detached.Id, runs: 2, seconds: 0.010, incarnation: "b") } });
                await first.Client.HeartbeatAsync(new HeartbeatRequest { AgentId = agentId, Usage = { Usage(kept.Id, runs: 3, seconds: 0.010, incarnation: "a2") } });
                await first.Client.ReportClientUsageAsync(new ReportClientUsageRequest { AcceleratorId = kept.Id, ClientId = "client-a", Models = { Usage(kept.Id, runs: 7, seconds: 0.015).Models } });
                await first.Client.DetachAsync(new DetachRequest { Host = "host-b", Ordinal = 0 });
                before = Assert.Single((await first.Client.GetUsageAsync(new GetUsageRequest { Host = "host-a" })).Accelerators);
            }

            // Stopping saved the book well within the save interval.
            using (SqliteBrokerDatabase database = TestDatabase.Open(dataDir))
            {
                UsageDocument saved = Assert.IsType<UsageDocument>(new SqliteUsageStore(database).Read());
                Assert.DoesNotContain(detached.Id, saved.Accelerators.Select(a => a.AcceleratorId));
            }

            await using BrokerTestHost second = await BrokerTestHost.StartAsync(output, options);
            AcceleratorUsage after = Assert.Single((await second.Client.GetUsageAsync(new GetUsageRequest { Host = "host-a" })).Accelerators);

            Assert.Equal(8, after.Inferences);
            Assert.Equal(7, after.ClientInferences);
            Assert.Equal(CostBasis.EndToEnd, after.CostBasis);
            // The same figures; the agent is known from the store, so its accelerator is healthy until it misses heartbeats.
            Assert.Equal(WithoutAccelerator(before), WithoutAccelerator(after));
            Assert.Equal(AgentHealth.Healthy, after.Accelerator.Health);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task AnUnusableUsageFileToImportIsSetAsideAndTheBrokerStartsWithItsImportedAttachments()
    {
        string dataDir = Directory.CreateTempSubdirectory("accelbroker-data-").FullName;
        try
        {
            var options = new BrokerOptions { DataDir = dataDir };
            await File.WriteAllTextAsync(Path.Combine(dataDir, "attachments.json"), """{"version": 1, "attachments": [{"id": "acc-1", "host": "host-a", "ordinal": 0, "slice_type": "eia2.medium", "host_type": "", "agent_id": "a", "agent_address": "http://127.0.0.1:1", "memory_bytes": 1, "compute_share": 0.1, "attached_at": "2025-01-01T00:00:00Z"}]}""");
            await File.WriteAllTextAsync(Path.Combine(dataDir, "usage.json"), "{\"version\": 1, \"accel");

            await using BrokerTestHost second = await BrokerTestHost.StartAsync(output, options);

            AcceleratorUsage usage = Assert.Single((await second.Client.GetUsageAsync(new GetUsageRequest { Host = "host-a" })).Accelerators);
            Assert.Equal("acc-1", usage.Accelerator.Id);
            Assert.Equal(0, usage.Inferences);
            Assert.Single(Directory.GetFiles(dataDir, "usage.json.unusable-*"));
            Assert.True(File.Exists(Path.Combine(dataDir, "attachments.json.imported")));
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static AcceleratorUsage WithoutAccelerator(AcceleratorUsage usage)
    {
        AcceleratorUsage copy = usage.Clone();
        copy.Accelerator = null;
        return copy;
    }

    private static (long ChargedBytes, int Resident) Memory(Accelerator accelerator) =>
        (accelerator.MemoryChargedBytes, accelerator.ModelsResident);

    private async Task<Accelerator> DescribeAsync(string host) =>
        Assert.Single((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = host })).Accelerators);

    private Task<HeartbeatResponse> HeartbeatAsync(string agentId, params SliceUsage[] usage) => HeartbeatAsync(agentId, [], usage);

    private async Task<HeartbeatResponse> HeartbeatAsync(string agentId, SliceState[] states, params SliceUsage[] usage)
    {
        var request = new HeartbeatRequest { AgentId = agentId };
        request.Slices.AddRange(states);
        request.Usage.AddRange(usage);
        return await Broker.HeartbeatAsync(request);
    }

    private async Task<AcceleratorUsage> UsageAsync(string host) =>
        Assert.Single((await Broker.GetUsageAsync(new GetUsageRequest { Host = host })).Accelerators);

    // Every run: queue 1 ms, decode 1 ms, compute 6 ms, encode 2 ms (total given).
    private static SliceUsage Usage(string sliceId, int runs, double seconds, string incarnation = "")
    {
        var total = new LatencyHistogram();
        var queue = new LatencyHistogram();
        var decode = new LatencyHistogram();
        var compute = new LatencyHistogram();
        var encode = new LatencyHistogram();
        for (int i = 0; i < runs; i++)
        {
            total.Record(seconds);
            queue.Record(0.001);
            decode.Record(0.001);
            compute.Record(0.006);
            encode.Record(0.002);
        }

        var usage = new SliceUsage { SliceId = sliceId, Incarnation = incarnation };
        usage.Models.Add(new ModelUsage
        {
            ModelId = "m",
            Inferences = runs,
            Failures = 2,
            Total = total.ToProto(),
            Queue = queue.ToProto(),
            Decode = decode.ToProto(),
            Compute = compute.ToProto(),
            Encode = encode.ToProto(),
        });
        return usage;
    }
}
