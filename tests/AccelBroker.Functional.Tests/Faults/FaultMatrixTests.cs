using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Processes;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Faults;

/// <summary>
/// Fault matrix 1–3 with the real executables as processes on loopback and 16 sessions calling <c>Run</c> with 30 s
/// deadlines: an agent killed with SIGKILL, the broker killed and restarted, an agent frozen with SIGSTOP until its
/// slices moved. In each, no call may get a wrong output and none may fail. Heartbeats every 0.5 s and a 3 s failover
/// limit keep the tests short; the fault benchmark measures the defaults.
/// </summary>
public sealed class FaultMatrixTests(ITestOutputHelper output)
{
    private const int Clients = 16;
    private const string Host = "fault-host";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private static readonly string[] FastFailover = ["--heartbeat-interval", "0.5", "--failover-after", "3"];

    [Fact]
    public async Task AnAgentKilledUnderLoadFailsNoCallAndItsAcceleratorServesFromTheOtherAgent()
    {
        await using TwoAgentFleet two = await TwoAgentFleet.StartAsync(FastFailover, Limit);
        (FleetProcesses fleet, FleetClient fleetClient) = (two.Processes, two.Client);
        Accelerator attached = await fleetClient.AttachAsync(Host, "eia2.medium");
        HostProcess victim = two.HolderOf(attached);

        await using ClientLoad load = await StartLoadAsync(two);
        await WaitForCallsAsync(fleet, load, 200);
        long killed = Stopwatch.GetTimestamp();
        await victim.KillAsync();
        await fleet.WaitUntilAsync(() => Task.FromResult(load.FirstSuccessOnANewAgentAfter(killed) is not null), Limit, "a call succeeded on the other agent");
        await WaitForCallsAsync(fleet, load, load.Right + 200);
        await load.StopAsync();

        output.WriteLine($"kill -9 to the first right answer from the other agent: {load.FirstSuccessOnANewAgentAfter(killed)!.Value.TotalSeconds:0.00} s " +
            $"(device cpu, this machine, heartbeat 0.5 s, failover after 3 s; {load.Right} right calls)");
        AssertClean(load, fleet);
        Accelerator moved = Assert.Single((await fleetClient.DescribeAcceleratorsAsync(Host)).Accelerators);
        Assert.True(moved.Id == attached.Id && moved.AgentId != victim.Name && moved.Epoch == 2, fleet.Logs());
    }

    [Fact]
    public async Task TheBrokerKilledUnderLoadFailsNoDataPathCallAndComesBackWithItsState()
    {
        int port = FreeLoopbackPort();
        await using TwoAgentFleet two = await TwoAgentFleet.StartAsync([.. FastFailover, "--listen", $"http://127.0.0.1:{port}", "--usage-save-interval", "1"], Limit);
        (FleetProcesses fleet, HostProcess broker, FleetClient fleetClient) = (two.Processes, two.Broker, two.Client);
        Accelerator attached = await fleetClient.AttachAsync(Host, "eia2.medium");

        await using ClientLoad load = await StartLoadAsync(two);
        await WaitForCallsAsync(fleet, load, 200);
        await Task.Delay(TimeSpan.FromSeconds(3)); // a usage save or two (every 1 s) from the agent's heartbeats
        await broker.KillAsync();
        long before = load.Right;
        await WaitForCallsAsync(fleet, load, before + 500); // the data path without a broker
        await broker.RestartAsync();
        await fleet.WaitUntilAsync(async () => (await fleetClient.DescribeAgentsAsync()).Count(a => a.Health == AgentHealth.Healthy) == 2, Limit, "both agents heartbeat the restarted broker");
        await WaitForCallsAsync(fleet, load, load.Right + 200);
        await load.StopAsync();

        AssertClean(load, fleet);
        Accelerator kept = Assert.Single((await fleetClient.DescribeAcceleratorsAsync(Host)).Accelerators);
        Assert.True((kept.Id, kept.AgentId, kept.Epoch, kept.Ordinal) == (attached.Id, attached.AgentId, attached.Epoch, attached.Ordinal), fleet.Logs());
        AcceleratorUsage usage = Assert.Single((await fleetClient.GetUsageAsync(Host)).Accelerators);
        Assert.True(usage.Inferences > 0, $"no usage kept across the broker's restart\n{fleet.Logs()}");
    }

    [Fact]
    public async Task AnAgentFrozenUntilItsSlicesMovedIsFencedAndAnswersNoClientAfterwards()
    {
        await using TwoAgentFleet two = await TwoAgentFleet.StartAsync(FastFailover, Limit);
        (FleetProcesses fleet, FleetClient fleetClient) = (two.Processes, two.Client);
        Accelerator attached = await fleetClient.AttachAsync(Host, "eia2.medium");
        HostProcess frozen = two.HolderOf(attached);
        // What a client that resolved before the freeze holds: the old agent and a slice token for epoch 1.
        ResolveAcceleratorResponse old = await ResolveAsync(two.Broker, two.AdminKey);

        await using ClientLoad load = await StartLoadAsync(two);
        await WaitForCallsAsync(fleet, load, 200);
        long stopped = Stopwatch.GetTimestamp();
        frozen.Stop();
        await fleet.WaitUntilAsync(async () => (await fleetClient.DescribeAcceleratorsAsync(Host)).Accelerators.Single().Epoch == 2, Limit, "the accelerator moved off the frozen agent");
        // The calls in flight to the frozen agent wait (a stopped process still has its sockets); once it is thawed they
        // are refused as fenced, and their sessions go to the new agent within their deadlines.
        frozen.Continue();

        // Straight after SIGCONT and until it has dropped the slice: refused, never answered.
        using GrpcChannel channel = GrpcChannel.ForAddress(old.Accelerator.AgentAddress);
        var agent = new InferenceAgent.InferenceAgentClient(channel);
        var headers = new Metadata { { "authorization", "Bearer " + old.SliceToken } };
        for (int probe = 0; probe < 30; probe++)
        {
            RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await agent.ListModelsAsync(
                new ListModelsRequest { SliceId = attached.Id }, headers, DateTime.UtcNow.AddSeconds(10)));
            Assert.True(refused.StatusCode is StatusCode.Unavailable or StatusCode.FailedPrecondition, $"{refused.StatusCode}: {refused.Status.Detail}\n{fleet.Logs()}");
            await Task.Delay(100);
        }

        await fleet.WaitUntilAsync(() => Task.FromResult(load.FirstSuccessOnANewAgentAfter(stopped) is not null), Limit, "a call succeeded on the other agent");
        await fleet.WaitUntilAsync(async () => (await fleetClient.DescribeAgentsAsync()).Single(a => a.AgentId == frozen.Name) is { Health: AgentHealth.Healthy, Accelerators.Count: 0 },
            Limit, "the thawed agent heartbeats again, holding nothing");
        await WaitForCallsAsync(fleet, load, load.Right + 200);
        await load.StopAsync();
        AssertClean(load, fleet);
    }

    private static Task<ClientLoad> StartLoadAsync(TwoAgentFleet fleet) => ClientLoad.StartAsync(
        fleet.SessionOptions(Host), Clients, Fixtures.Path("demo_mlp.pt"), Fixtures.Npy("demo_mlp.input0.npy"), Fixtures.Npy("demo_mlp.output0.npy"), CallTimeout);

    private static async Task<ResolveAcceleratorResponse> ResolveAsync(HostProcess broker, string adminKey)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(broker.Address);
        var client = new AccelBroker.Protocol.V1.Broker.BrokerClient(channel);
        return await client.ResolveAcceleratorAsync(
            new ResolveAcceleratorRequest { Host = Host }, new Metadata { { "authorization", "Bearer " + adminKey } }, DateTime.UtcNow.AddSeconds(10));
    }

    private static Task WaitForCallsAsync(FleetProcesses fleet, ClientLoad load, long right) =>
        fleet.WaitUntilAsync(() => Task.FromResult(load.Right >= right || load.Wrong > 0), Limit, $"{right} right calls ({load.Right} so far, {load.Failures.Count} failed)");

    private static void AssertClean(ClientLoad load, FleetProcesses fleet)
    {
        Assert.True(load.Wrong == 0, $"{load.Wrong} wrong outputs, the first: {load.FirstWrong}\n{fleet.Logs()}");
        Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} failed calls, first: {load.Failures.FirstOrDefault()}\n{fleet.Logs()}");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
