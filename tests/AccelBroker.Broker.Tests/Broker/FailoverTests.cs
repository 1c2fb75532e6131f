using AccelBroker.Broker;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Failover;

/// <summary>
/// The broker moves accelerators off agents that stay silent, and off drained agents: a real broker on loopback with a
/// fake clock, and two fake agents that record what the broker asks of them.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingLoggerProvider _logs = new();
    private FakeAgent _a = null!;
    private FakeAgent _b = null!;

    public async Task InitializeAsync()
    {
        _a = await FakeAgent.StartAsync(output);
        _b = await FakeAgent.StartAsync(output);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task ASilentAgentsAcceleratorMovesToAHealthyAgentKeepingItsIdHostAndOrdinalAtTheNextEpoch()
    {
        await using BrokerTestHost broker = await StartAsync();
        await _a.RegisterAsync(broker.Client, agentId: "agent-a");
        await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" });
        Accelerator before = (await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.large" })).Accelerator;
        Assert.Equal(("agent-a", 1L), (before.AgentId, before.Epoch));
        await _b.RegisterAsync(broker.Client, agentId: "agent-b");

        // agent-b keeps heartbeating; agent-a falls silent for the 10 s failover limit.
        await SilenceAsync(broker, TimeSpan.FromSeconds(10.5), "agent-b");

        Accelerator after = await WaitForAsync(broker, "h", 1, a => a.AgentId == "agent-b");
        Assert.Equal((before.Id, before.Host, before.Ordinal, before.SliceType, 2L), (after.Id, after.Host, after.Ordinal, after.SliceType, after.Epoch));
        Assert.Equal((AcceleratorState.Ready, ""), (after.State, after.StateReason));
        Assert.Equal(2, _b.Control.Slices[before.Id].Epoch);
        Assert.Equal(2, _b.Control.Slices.Count);

        // The resolution names the new agent and its epoch; the old agent's next heartbeat is told to drop both slices.
        ResolveAcceleratorResponse resolved = await broker.Client.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "h", Ordinal = 1 });
        Assert.Equal(("agent-b", _b.Address, 2L), (resolved.Accelerator.AgentId, resolved.Accelerator.AgentAddress, resolved.Accelerator.Epoch));
        HeartbeatResponse back = await broker.Client.HeartbeatAsync(new HeartbeatRequest { AgentId = "agent-a" });
        Assert.Empty(back.Slices);
        Assert.Contains(_logs.Messages, m => m.Name == "AcceleratorFailedOver" && m.Message.Contains(before.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAcceleratorIsRecoveringDuringTheGraceThenImpairedWithTheReasonThenPlacedOnceRoomAppears()
    {
        await using BrokerTestHost broker = await StartAsync();
        await _a.RegisterAsync(broker.Client, agentId: "agent-a");
        Accelerator attached = (await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" })).Accelerator;

        _time.Advance(TimeSpan.FromSeconds(7));
        Accelerator recovering = await WaitForAsync(broker, "h", 0, a => a.State == AcceleratorState.Recovering);
        Assert.Equal("agent agent-a silent for 7 s; moves to another agent after 10 s of silence", recovering.StateReason);
        AgentDescription agent = Assert.Single((await broker.Client.DescribeAgentsAsync(new DescribeAgentsRequest())).Agents);
        Assert.Equal("no heartbeat for 7 s (limit 6 s)", agent.HealthReason);

        _time.Advance(TimeSpan.FromSeconds(4));
        Accelerator impaired = await WaitForAsync(broker, "h", 0, a => a.State == AcceleratorState.Impaired);
        Assert.StartsWith("agent agent-a silent for ", impaired.StateReason, StringComparison.Ordinal);
        Assert.EndsWith("no healthy agent has room for a eia2.medium slice (needs 2048 MiB memory and 0.125 compute); no healthy agents", impaired.StateReason, StringComparison.Ordinal);
        Assert.Equal(("agent-a", 1L), (impaired.AgentId, impaired.Epoch));

        await _b.RegisterAsync(broker.Client, agentId: "agent-b");
        _time.Advance(TimeSpan.FromSeconds(2));
        Accelerator placed = await WaitForAsync(broker, "h", 0, a => a.AgentId == "agent-b");
        Assert.Equal((attached.Id, 2L, AcceleratorState.Ready), (placed.Id, placed.Epoch, placed.State));
    }

    [Fact]
    public async Task WithFailoverOffAnAcceleratorWaitsForItsAgent()
    {
        await using BrokerTestHost broker = await StartAsync(new BrokerOptions { FailoverAfter = Timeout.InfiniteTimeSpan });
        await _a.RegisterAsync(broker.Client, agentId: "agent-a");
        await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" });
        await _b.RegisterAsync(broker.Client, agentId: "agent-b");

        await SilenceAsync(broker, TimeSpan.FromSeconds(30), "agent-b");

        Accelerator waiting = (await broker.Client.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "h" })).Accelerator;
        Assert.Equal(("agent-a", 1L, AcceleratorState.Recovering), (waiting.AgentId, waiting.Epoch, waiting.State));
        Assert.EndsWith("failover is off, so it waits for the agent to come back", waiting.StateReason, StringComparison.Ordinal);
        Assert.Empty(_b.Control.Slices);
    }

    [Fact]
    public async Task ADrainMovesEverySliceOffTheAgentAndCordonsItUntilUncordoned()
    {
        await using BrokerTestHost broker = await StartAsync();
        await _a.RegisterAsync(broker.Client, agentId: "agent-a");
        Accelerator first = (await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" })).Accelerator;
        Accelerator second = (await broker.Client.AttachAsync(new AttachRequest { Host = "g", SliceType = "eia2.large" })).Accelerator;
        await _b.RegisterAsync(broker.Client, agentId: "agent-b");

        DrainAgentResponse drained = await broker.Client.DrainAgentAsync(new DrainAgentRequest { AgentId = "agent-a" });

        Assert.Equal((2, 0), (drained.SlicesMoved, drained.SlicesStranded.Count));
        Assert.True(drained.Agent.Cordoned);
        Assert.Empty(drained.Agent.Accelerators);
        foreach (Accelerator moved in new[] { first, second })
        {
            Accelerator now = (await broker.Client.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = moved.Host })).Accelerator;
            Assert.Equal((moved.Id, "agent-b", 2L), (now.Id, now.AgentId, now.Epoch));
            Assert.Equal(2, _b.Control.Slices[moved.Id].Epoch);
        }

        // The drained agent is asked to drop its slices, and takes no new one although it has the most room.
        await WaitUntilAsync(() => _a.Control.Released.Count == 2);
        Accelerator third = (await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" })).Accelerator;
        Assert.Equal("agent-b", third.AgentId);

        AgentDescription uncordoned = (await broker.Client.UncordonAgentAsync(new UncordonAgentRequest { AgentId = "agent-a" })).Agent;
        Assert.False(uncordoned.Cordoned);
        Accelerator fourth = (await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" })).Accelerator;
        Assert.Equal("agent-a", fourth.AgentId);
        Assert.Contains(_logs.Messages, m => m.Name == "AgentDrained" && m.Message.Contains("2 slice(s) moved", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASliceWithNowhereToGoStaysOnTheDrainedAgentAndIsListed()
    {
        await using BrokerTestHost broker = await StartAsync();
        await _a.RegisterAsync(broker.Client, agentId: "agent-a");
        Accelerator attached = (await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" })).Accelerator;

        DrainAgentResponse drained = await broker.Client.DrainAgentAsync(new DrainAgentRequest { AgentId = "agent-a" });

        Assert.Equal(0, drained.SlicesMoved);
        string stranded = Assert.Single(drained.SlicesStranded);
        Assert.StartsWith("h:0 (agent agent-a is draining; no healthy agent has room", stranded, StringComparison.Ordinal);
        Accelerator kept = (await broker.Client.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "h" })).Accelerator;
        Assert.Equal((attached.Id, "agent-a", 1L, AcceleratorState.Ready), (kept.Id, kept.AgentId, kept.Epoch, kept.State));
        Assert.Empty(_a.Control.Released);
    }

    [Theory]
    [InlineData("", StatusCode.InvalidArgument, "agent_id is required")]
    [InlineData("agent-nope", StatusCode.NotFound, "unknown agent 'agent-nope'")]
    public async Task DrainAndUncordonOfABadAgentIdAreRefusedAndTheBrokerKeepsServing(string agentId, StatusCode status, string message)
    {
        await using BrokerTestHost broker = await StartAsync();

        RpcException drain = await Assert.ThrowsAsync<RpcException>(async () => await broker.Client.DrainAgentAsync(new DrainAgentRequest { AgentId = agentId }));
        RpcException uncordon = await Assert.ThrowsAsync<RpcException>(async () => await broker.Client.UncordonAgentAsync(new UncordonAgentRequest { AgentId = agentId }));

        Assert.Equal((status, status), (drain.StatusCode, uncordon.StatusCode));
        Assert.StartsWith(message, drain.Status.Detail, StringComparison.Ordinal);
        Assert.StartsWith(message, uncordon.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(3, (await broker.Client.ListSliceTypesAsync(new ListSliceTypesRequest())).SliceTypes.Count);
    }

    [Fact]
    public void AFailoverLimitNoLongerThanTheUnhealthyLimitIsAStartUpError()
    {
        var options = new BrokerOptions { Listen = "http://127.0.0.1:0", FailoverAfter = TimeSpan.FromSeconds(6) };

        BrokerConfigurationException error = Assert.Throws<BrokerConfigurationException>(() => BrokerHost.Build(options));

        Assert.Equal("--failover-after (6 s) must be longer than the time an agent takes to turn unhealthy (heartbeat interval × missed heartbeats = 6 s)", error.Message);
    }

    [Fact]
    public void AgentsAreToldToFenceThemselvesBeforeTheirSlicesCanMove()
    {
        Assert.Equal(TimeSpan.FromSeconds(8), new BrokerOptions().AgentFenceAfter);
        Assert.Equal(TimeSpan.FromSeconds(10), new BrokerOptions().EffectiveFailoverAfter);
        // A slow heartbeat pushes the default failover limit past the unhealthy limit.
        Assert.Equal(TimeSpan.FromSeconds(20), new BrokerOptions { HeartbeatInterval = TimeSpan.FromSeconds(5) }.EffectiveFailoverAfter);
    }

    private Task<BrokerTestHost> StartAsync(BrokerOptions? options = null) => BrokerTestHost.StartAsync(output, options, _time, _logs);

    // Advances the clock in steps no longer than a heartbeat interval, heartbeating the agents that must stay healthy.
    private async Task SilenceAsync(BrokerTestHost broker, TimeSpan total, params string[] alive)
    {
        TimeSpan step = TimeSpan.FromSeconds(2);
        for (TimeSpan passed = TimeSpan.Zero; passed < total; passed += step)
        {
            foreach (string agentId in alive)
            {
                await broker.Client.HeartbeatAsync(new HeartbeatRequest { AgentId = agentId });
            }

            _time.Advance(total - passed < step ? total - passed : step);
        }

        foreach (string agentId in alive)
        {
            await broker.Client.HeartbeatAsync(new HeartbeatRequest { AgentId = agentId });
        }
    }

    // Failover rounds run on the broker's timer, after the clock moved: wait (bounded) for one to have had its effect.
    private static async Task<Accelerator> WaitForAsync(BrokerTestHost broker, string host, int ordinal, Func<Accelerator, bool> condition)
    {
        Accelerator current = null!;
        await WaitUntilAsync(async () =>
        {
            current = (await broker.Client.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = host, Ordinal = ordinal })).Accelerator;
            return condition(current);
        });
        return current;
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 200; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(25);
        }

        Assert.Fail("the condition did not hold within 5 s");
    }
}
