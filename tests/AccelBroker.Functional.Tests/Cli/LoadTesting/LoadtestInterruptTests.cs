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

    /// <summary>The accel CLI as a child process whose output is read as it comes, so a test can wait for a line and then send SIGINT.</summary>
    private sealed class InterruptibleCli : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _stdout = new();
        private readonly ConcurrentQueue<string> _stderr = new();

        public InterruptibleCli(params string[] args)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = AppContext.BaseDirectory,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "accel.dll"));
            foreach (string arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment.Remove("ACCEL_BROKER");
            start.Environment.Remove("ACCEL_API_KEY");
            _process = Process.Start(start) ?? throw new InvalidOperationException("could not start accel");
            _process.OutputDataReceived += (_, e) => Add(_stdout, e.Data);
            _process.ErrorDataReceived += (_, e) => Add(_stderr, e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string StdOut => string.Join('\n', _stdout);

        public string StdErr => string.Join('\n', _stderr);

        public string Output => $"stdout:\n{StdOut}\nstderr:\n{StdErr}";

        public async Task WaitForErrorLineAsync(string start, TimeSpan limit, FleetProcesses fleet)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < limit && !_stderr.Any(l => l.StartsWith(start, StringComparison.Ordinal)))
            {
                Assert.False(_process.HasExited, $"accel exited before '{start}'\n{Output}\n{fleet.Logs()}");
                await Task.Delay(100);
            }

            Assert.True(_stderr.Any(l => l.StartsWith(start, StringComparison.Ordinal)), $"no '{start}' within {limit}\n{Output}\n{fleet.Logs()}");
        }

        /// <summary>SIGINT, as Ctrl-C in a terminal sends it.</summary>
        public void Interrupt()
        {
            using Process kill = Process.Start(new ProcessStartInfo("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
            Assert.True(kill.WaitForExit(10_000) && kill.ExitCode == 0, "kill -INT failed");
        }

        public async Task<int> WaitForExitAsync(TimeSpan limit)
        {
            using var timeout = new CancellationTokenSource(limit);
            await _process.WaitForExitAsync(timeout.Token);
            // The asynchronous readers have seen the last lines once this returns.
            _process.WaitForExit();
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }

        private static void Add(ConcurrentQueue<string> lines, string? line)
        {
            if (line is not null)
            {
                lines.Enqueue(line);
            }
        }
    }
}
