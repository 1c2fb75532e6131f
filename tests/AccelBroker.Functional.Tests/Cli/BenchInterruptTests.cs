using System.Globalization;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Processes;
using Xunit;

namespace AccelBroker.Tests.Cli;

/// <summary>
/// Ctrl-C with everything real: <c>accel bench</c> as a process against a broker and an agent as processes. SIGINT
/// mid-measurement exits 130 and unloads the model bench loaded, but not one the slice already held.
/// </summary>
public sealed class BenchInterruptTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task SigintMidMeasurementExits130AndUnloadsOnlyAModelBenchItselfLoaded()
    {
        await using var fleet = new FleetProcesses();
        HostProcess broker = await fleet.StartBrokerAsync();
        string keyFile = fleet.AdminKeyFile(broker);
        string adminKey = (await File.ReadAllTextAsync(keyFile)).Trim();
        await fleet.StartAgentAsync(broker.Address, "agent-bench");
        using var fleetClient = new FleetClient(new FleetClientOptions { Broker = broker.Address, ApiKey = adminKey });
        await fleet.WaitUntilAsync(async () => (await fleetClient.DescribeAgentsAsync()).Any(a => a.Health == AgentHealth.Healthy), Limit, "the agent registered");

        // A slice that held nothing: bench loaded the model, so Ctrl-C unloads it.
        Accelerator fresh = await fleetClient.AttachAsync("host-bench-fresh", "eia2.medium");
        SliceClient freshSlice = await fleetClient.OpenSliceAsync(fresh.Host, fresh.Ordinal);
        string error = await InterruptMidRunAsync(fleet, broker, keyFile, fresh, freshSlice);
        Assert.Contains("accel: interrupted: nothing is reported; the model it loaded (", error);
        Assert.Contains(") was unloaded", error);
        Assert.Empty((await freshSlice.ListModelsAsync()).Models);

        // A slice already running the model for an application: it stays.
        Accelerator busy = await fleetClient.AttachAsync("host-bench-busy", "eia2.medium");
        SliceClient busySlice = await fleetClient.OpenSliceAsync(busy.Host, busy.Ordinal);
        await using (AcceleratorSession application = await AcceleratorSession.OpenAsync(new AcceleratorSessionOptions { Broker = broker.Address, Host = busy.Host, Ordinal = busy.Ordinal, HostCredential = adminKey }))
        {
            RemoteModel held = await application.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
            error = await InterruptMidRunAsync(fleet, broker, keyFile, busy, busySlice);
            Assert.Contains($"accel: interrupted: nothing is reported; {held.ModelId} stays loaded, as the slice held it before", error);
            Assert.Equal(held.ModelId, Assert.Single((await busySlice.ListModelsAsync()).Models).ModelId);
        }
    }

    private static async Task<string> InterruptMidRunAsync(FleetProcesses fleet, HostProcess broker, string keyFile, Accelerator accelerator, SliceClient slice)
    {
        long runsBefore = (await slice.ListModelsAsync()).Models.Sum(m => m.Runs);
        // Far longer than the test: only SIGINT ends it.
        using var cli = new InterruptibleCli(
            "bench", Fixtures.Path("demo_mlp.pt"), "--host", accelerator.Host, "--ordinal", accelerator.Ordinal.ToString(CultureInfo.InvariantCulture),
            "--input", Fixtures.Path("demo_mlp.input0.npy"), "--concurrency", "2", "--duration", "600s", "--json",
            "--broker", broker.Address, "--api-key-file", keyFile);
        await fleet.WaitUntilAsync(async () => (await slice.ListModelsAsync()).Models.Sum(m => m.Runs) > runsBefore + 20, Limit, $"bench ran on {accelerator.Host}\n{cli.Output}");

        cli.Interrupt();
        int exitCode = await cli.WaitForExitAsync(Limit);

        Assert.True(exitCode == 130, $"exit {exitCode}\n{cli.Output}\n{fleet.Logs()}");
        Assert.Empty(cli.StdOut.Trim());
        return cli.StdErr;
    }
}
