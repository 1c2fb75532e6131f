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
        await using OneAgentFleet started = await OneAgentFleet.StartAsync("agent-bench", Limit);

        // A slice that held nothing: bench loaded the model, so Ctrl-C unloads it.
        Accelerator fresh = await started.Client.AttachAsync("host-bench-fresh", "eia2.medium");
        SliceClient freshSlice = await started.Client.OpenSliceAsync(fresh.Host, fresh.Ordinal);
        string error = await InterruptMidRunAsync(started, fresh, freshSlice);
        Assert.Contains("accel: interrupted: nothing is reported; the model it loaded (", error);
        Assert.Contains(") was unloaded", error);
        Assert.Empty((await freshSlice.ListModelsAsync()).Models);

        // A slice already running the model for an application: it stays.
        Accelerator busy = await started.Client.AttachAsync("host-bench-busy", "eia2.medium");
        SliceClient busySlice = await started.Client.OpenSliceAsync(busy.Host, busy.Ordinal);
        await using (AcceleratorSession application = await AcceleratorSession.OpenAsync(new AcceleratorSessionOptions { Broker = started.Broker.Address, Host = busy.Host, Ordinal = busy.Ordinal, HostCredential = started.AdminKey }))
        {
            RemoteModel held = await application.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
            error = await InterruptMidRunAsync(started, busy, busySlice);
            Assert.Contains($"accel: interrupted: nothing is reported; {held.ModelId} stays loaded, as the slice held it before", error);
            Assert.Equal(held.ModelId, Assert.Single((await busySlice.ListModelsAsync()).Models).ModelId);
        }
    }

    private static async Task<string> InterruptMidRunAsync(OneAgentFleet started, Accelerator accelerator, SliceClient slice)
    {
        long runsBefore = (await slice.ListModelsAsync()).Models.Sum(m => m.Runs);
        // Far longer than the test: only SIGINT ends it.
        using var cli = new InterruptibleCli(
            "bench", Fixtures.Path("demo_mlp.pt"), "--host", accelerator.Host, "--ordinal", accelerator.Ordinal.ToString(CultureInfo.InvariantCulture),
            "--input", Fixtures.Path("demo_mlp.input0.npy"), "--concurrency", "2", "--duration", "600s", "--json",
            "--broker", started.Broker.Address, "--api-key-file", started.KeyFile);
        await started.Processes.WaitUntilAsync(async () => (await slice.ListModelsAsync()).Models.Sum(m => m.Runs) > runsBefore + 20, Limit, $"bench ran on {accelerator.Host}\n{cli.Output}");

        cli.Interrupt();
        int exitCode = await cli.WaitForExitAsync(Limit);

        Assert.True(exitCode == 130, $"exit {exitCode}\n{cli.Output}\n{started.Processes.Logs()}");
        Assert.Empty(cli.StdOut.Trim());
        return cli.StdErr;
    }
}
