using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Processes;
using Xunit;

namespace AccelBroker.Tests.Cli.Comparing;

/// <summary>
/// Ctrl-C with everything real: <c>accel compare</c> as a process against a broker and an agent as processes. SIGINT
/// while an attached row is measured detaches the compare's temporary host, so nothing it attached or loaded is left.
/// </summary>
public sealed class CompareInterruptTests
{
    private const string TempHostPrefix = "accel-compare-";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task SigintWhileAnAttachedRowIsMeasuredExits130AndLeavesNothingAttachedOrLoaded()
    {
        await using OneAgentFleet started = await OneAgentFleet.StartAsync("agent-compare", Limit);

        // The most runs compare takes, far more than the test lasts: only SIGINT ends the row.
        using var cli = new InterruptibleCli(
            "compare", Fixtures.Path("demo_mlp.pt"), "--host-types", "c5.large", "--slice-types", "eia2.medium",
            "--input", Fixtures.Path("demo_mlp.input0.npy"), "-n", "100000", "--json", "--broker", started.Broker.Address, "--api-key-file", started.KeyFile);
        Accelerator? temporary = null;
        await started.Processes.WaitUntilAsync(
            async () =>
            {
                temporary = (await started.Client.DescribeAgentsAsync()).SelectMany(a => a.Accelerators).FirstOrDefault(a => a.Host.StartsWith(TempHostPrefix, StringComparison.Ordinal));
                if (temporary is null)
                {
                    return false;
                }

                SliceClient slice = await started.Client.OpenSliceAsync(temporary.Host, temporary.Ordinal);
                return (await slice.ListModelsAsync()).Models.Any(m => m.Runs > 0);
            },
            Limit,
            $"the attached row ran on the temporary host\n{cli.Output}");

        cli.Interrupt();
        int exitCode = await cli.WaitForExitAsync(Limit);

        Assert.True(exitCode == 130, $"exit {exitCode}\n{cli.Output}\n{started.Processes.Logs()}");
        Assert.Contains("accel: interrupted", cli.StdErr);
        Assert.Empty((await started.Client.DescribeAcceleratorsAsync(temporary!.Host)).Accelerators);
        Assert.DoesNotContain((await started.Client.DescribeAgentsAsync()).SelectMany(a => a.Accelerators), a => a.Host.StartsWith(TempHostPrefix, StringComparison.Ordinal));
    }
}
