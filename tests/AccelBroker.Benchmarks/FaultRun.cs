using System.Diagnostics;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Processes;

namespace AccelBroker.Benchmarks;

/// <summary>
/// One fault under load with the real executables as processes on loopback: a broker, two CPU agents, one accelerator
/// and 16 sessions calling demo_mlp.pt with 30 s deadlines, every output checked.
/// </summary>
internal static class FaultRun
{
    public const int Clients = 16;
    private const string Host = "fault-bench";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What the clients saw: how long until a call succeeded on the other agent, and every call's fate.</summary>
    public sealed record Outcome(TimeSpan? Recovery, TimeSpan FaultDuration, long Right, long Wrong, IReadOnlyCollection<string> Failures);

    /// <param name="brokerArguments">Extra broker flags (heartbeat, failover limit).</param>
    /// <param name="fault">The fault, given the fleet client and the agent holding the accelerator; returns when it is done.</param>
    public static async Task<Outcome> RunAsync(RepoPaths paths, string[] brokerArguments, Func<FleetClient, HostProcess, Task> fault, CancellationToken ct)
    {
        await using TwoAgentFleet fleet = await TwoAgentFleet.StartAsync(brokerArguments, Limit);
        Accelerator attached = await fleet.Client.AttachAsync(Host, "eia2.medium", cancellationToken: ct);
        HostProcess holder = fleet.HolderOf(attached);

        await using ClientLoad load = await ClientLoad.StartAsync(
            fleet.SessionOptions(Host), Clients, paths.Fixture("demo_mlp.pt"), Npy.Read(paths.Fixture("demo_mlp.input0.npy")), Npy.Read(paths.Fixture("demo_mlp.output0.npy")), CallTimeout);
        await fleet.Processes.WaitUntilAsync(() => Task.FromResult(load.Right >= 300), Limit, "300 calls before the fault");
        long started = Stopwatch.GetTimestamp();
        await fault(fleet.Client, holder);
        TimeSpan faultDuration = Stopwatch.GetElapsedTime(started);
        await fleet.Processes.WaitUntilAsync(() => Task.FromResult(load.FirstSuccessOnANewAgentAfter(started) is not null), Limit, "a call succeeded on the other agent");
        long after = load.Right + 300;
        await fleet.Processes.WaitUntilAsync(() => Task.FromResult(load.Right >= after), Limit, "300 calls after recovery");
        await load.StopAsync();
        return new Outcome(load.FirstSuccessOnANewAgentAfter(started), faultDuration, load.Right, load.Wrong, load.Failures);
    }
}
