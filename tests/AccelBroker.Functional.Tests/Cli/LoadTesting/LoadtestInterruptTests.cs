using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Processes;
using Xunit;

namespace AccelBroker.Tests.Cli.LoadTesting;

/// <summary>
/// Ctrl-C with everything real: the accel CLI as a process against a broker and an agent as processes; SIGINT during a
/// stage stops the users, prints what was measured, exits 130, and leaves none of the tool's models on the slice.
/// </summary>
public sealed class LoadtestInterruptTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task SigintDuringAStagePrintsWhatWasMeasuredExits130AndLeavesNoneOfItsModelsLoaded()
    {
        await using var fleet = new FleetProcesses();
        HostProcess broker = await fleet.StartBrokerAsync();
        string keyFile = fleet.AdminKeyFile(broker);
        string adminKey = (await File.ReadAllTextAsync(keyFile)).Trim();
        await fleet.StartAgentAsync(broker.Address, "agent-loadtest");
        using var fleetClient = new FleetClient(new FleetClientOptions { Broker = broker.Address, ApiKey = adminKey });
        await fleet.WaitUntilAsync(async () => (await fleetClient.DescribeAgentsAsync()).Any(a => a.Health == AgentHealth.Healthy), Limit, "the agent registered");
        const string host = "host-loadtest";
        Accelerator attached = await fleetClient.AttachAsync(host, "eia2.medium");
        SliceClient slice = await fleetClient.OpenSliceAsync(host, attached.Ordinal);
        string stages = Path.Combine(fleet.Root, "stages.json");
        // One stage far longer than the test: only SIGINT ends it.
        await File.WriteAllTextAsync(stages, """[{"duration": 600, "users": 2, "spawn_rate": 10}]""");

        using var cli = new InterruptibleCli(
            "loadtest", "--model", Fixtures.Path("demo_mlp.pt"), "--copies", "2", "--input", Fixtures.Path("demo_mlp.input0.npy"),
            "--stages", stages, "--host", host, "--ordinal", attached.Ordinal.ToString(CultureInfo.InvariantCulture), "--json",
            "--broker", broker.Address, "--api-key-file", keyFile);
        await cli.WaitForErrorLineAsync("accel: loadtest: loaded 2 models", Limit, fleet);
        // Mid-stage: both copies loaded and running.
        await fleet.WaitUntilAsync(
            async () => (await slice.ListModelsAsync()).Models.Count(m => m.Alias.StartsWith("loadtest-", StringComparison.Ordinal) && m.Runs > 0) == 2,
            Limit,
            $"both copies ran\n{cli.Output}");

        cli.Interrupt();
        int exitCode = await cli.WaitForExitAsync(Limit);

        Assert.True(exitCode == 130, $"exit {exitCode}\n{cli.Output}\n{fleet.Logs()}");
        Assert.Contains("accel: error: interrupted in stage 1 of 1; printed what was measured and unloaded the 2 models it loaded", cli.StdErr);
        using JsonDocument json = JsonDocument.Parse(cli.StdOut);
        Assert.True(json.RootElement.GetProperty("interrupted").GetBoolean());
        JsonElement stage = Assert.Single(json.RootElement.GetProperty("stages").EnumerateArray());
        Assert.False(stage.GetProperty("complete").GetBoolean());
        Assert.True(stage.GetProperty("successes").GetInt32() > 0, stage.ToString());
        Assert.DoesNotContain((await slice.ListModelsAsync()).Models, m => m.Alias.StartsWith("loadtest-", StringComparison.Ordinal));
    }
}
