using System.Runtime.InteropServices;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Processes;
using Xunit;

namespace AccelBroker.Tests.Faults;

/// <summary>
/// Fault matrix 4, with the real executables as processes: an agent killed with SIGKILL and started again with its
/// <c>--data-dir</c> and id gets its slices back (they had not moved), and a session runs on it again.
/// </summary>
public sealed class AgentRestartTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AnAgentKilledAndRestartedWithItsDataDirGetsItsSlicesBackAndRunsAgain()
    {
        await using var fleet = new FleetProcesses();
        HostProcess broker = await fleet.StartBrokerAsync("--heartbeat-interval", "1");
        string adminKey = (await File.ReadAllTextAsync(fleet.AdminKeyFile(broker))).Trim();
        HostProcess agent = await fleet.StartAgentAsync(broker.Address, "agent-restart");
        using var fleetClient = new FleetClient(new FleetClientOptions { Broker = broker.Address, ApiKey = adminKey });
        await fleet.WaitUntilAsync(() => IsHealthyAsync(fleetClient, agent), Limit, "the agent registered");

        const string host = "host-restart";
        Accelerator attached = await fleetClient.AttachAsync(host, "eia2.medium");
        await RunDemoAsync(broker, host, attached.Ordinal, adminKey, fleet);

        await agent.KillAsync();
        await agent.RestartAsync();
        await fleet.WaitUntilAsync(() => IsHealthyAsync(fleetClient, agent), Limit, "the restarted agent registered again");

        // The same accelerator, on the same agent at its new address: its slice came back rather than moved.
        Accelerator after = Assert.Single((await fleetClient.DescribeAcceleratorsAsync(host)).Accelerators);
        Assert.True(attached.Id == after.Id && after.AgentId == "agent-restart", fleet.Logs());
        Assert.Equal(agent.Address.TrimEnd('/'), after.AgentAddress.TrimEnd('/'));
        await RunDemoAsync(broker, host, attached.Ordinal, adminKey, fleet);
    }

    private static async Task<bool> IsHealthyAsync(FleetClient fleetClient, HostProcess agent) =>
        (await fleetClient.DescribeAgentsAsync()).Any(a => a.AgentId == agent.Name && a.Health == AgentHealth.Healthy
            && a.Address.TrimEnd('/') == agent.Address.TrimEnd('/'));

    // A fresh session loads the model (uploading it only when the agent's store lacks it) and checks its output.
    private static async Task RunDemoAsync(HostProcess broker, string host, int ordinal, string adminKey, FleetProcesses fleet)
    {
        await using AcceleratorSession session = await AcceleratorSession.OpenAsync(
            new AcceleratorSessionOptions { Broker = broker.Address, Host = host, Ordinal = ordinal, HostCredential = adminKey });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        ModelOutput output = await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);
        Tensor expected = Fixtures.Npy("demo_mlp.output0.npy");
        Assert.True(expected.Shape.SequenceEqual(output[0].Shape), fleet.Logs());
        // The recorded output came from another libtorch build: equal to float rounding, not bit for bit.
        ReadOnlySpan<float> want = MemoryMarshal.Cast<byte, float>(expected.Data.Span);
        ReadOnlySpan<float> got = MemoryMarshal.Cast<byte, float>(output[0].Data.Span);
        Assert.True(want.Length == got.Length, fleet.Logs());
        for (int i = 0; i < want.Length; i++)
        {
            Assert.True(Math.Abs(want[i] - got[i]) <= 1e-4f * Math.Max(1f, Math.Abs(want[i])), $"output {i}: {got[i]}, not {want[i]}\n{fleet.Logs()}");
        }
    }
}
