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
        await using OneAgentFleet started = await OneAgentFleet.StartAsync("agent-loadtest", Limit);
        const string host = "host-loadtest";
        Accelerator attached = await started.Client.AttachAsync(host, "eia2.medium");
        SliceClient slice = await started.Client.OpenSliceAsync(host, attached.Ordinal);
        string stages = Path.Combine(started.Processes.Root, "stages.json");
        // One stage far longer than the test: only SIGINT ends it.
        await File.WriteAllTextAsync(stages, """[{"duration": 600, "users": 2, "spawn_rate": 10}]""");

        using var cli = new InterruptibleCli(
            "loadtest", "--model", Fixtures.Path("demo_mlp.pt"), "--copies", "2", "--input", Fixtures.Path("demo_mlp.input0.npy"),
            "--stages", stages, "--host", host, "--ordinal", attached.Ordinal.ToString(CultureInfo.InvariantCulture), "--json",
            "--broker", started.Broker.Address, "--api-key-file", started.KeyFile);
        await cli.WaitForErrorLineAsync("accel: loadtest: loaded 2 models", Limit, started.Processes);
        // Mid-stage: both copies loaded and running.
        await started.Processes.WaitUntilAsync(
            async () => (await slice.ListModelsAsync()).Models.Count(m => m.Alias.StartsWith("loadtest-", StringComparison.Ordinal) && m.Runs > 0) == 2,
            Limit,
            $"both copies ran\n{cli.Output}");

        cli.Interrupt();
        int exitCode = await cli.WaitForExitAsync(Limit);

        Assert.True(exitCode == 130, $"exit {exitCode}\n{cli.Output}\n{started.Processes.Logs()}");
        Assert.Contains("accel: error: interrupted in stage 1 of 1; printed what was measured and unloaded the 2 models it loaded", cli.StdErr);
        using JsonDocument json = JsonDocument.Parse(cli.StdOut);
        Assert.True(json.RootElement.GetProperty("interrupted").GetBoolean());
        JsonElement stage = Assert.Single(json.RootElement.GetProperty("stages").EnumerateArray());
        Assert.False(stage.GetProperty("complete").GetBoolean());
        Assert.True(stage.GetProperty("successes").GetInt32() > 0, stage.ToString());
        Assert.DoesNotContain((await slice.ListModelsAsync()).Models, m => m.Alias.StartsWith("loadtest-", StringComparison.Ordinal));
    }
}
