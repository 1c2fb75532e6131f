using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Xunit;

namespace AccelBroker.Tests.Cli.Sweeping;

/// <summary><c>accel sweep</c> end to end against a real broker and agent on loopback: a small grid in this process, and Ctrl-C to the CLI as a process.</summary>
public sealed class SweepCliTests : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan ProcessLimit = TimeSpan.FromMinutes(2);
    private readonly TestCluster _cluster;
    private readonly Dictionary<string, string> _slices = [];

    public SweepCliTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task ASmallGridMeasuresEveryCellFindsTheKneeAndBestWritesCsvAndChartsAndUnloadsTheModel()
    {
        string host = await AttachAsync();
        string dir = Directory.CreateTempSubdirectory("accel-sweep-").FullName;
        string csv = Path.Combine(dir, "cells.csv");
        string svg = Path.Combine(dir, "sweep.svg");

        CliProcess.Result result = await CliInProcess.RunAsync("sweep", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0",
            "--input-shape", "1,16", "--batch", "1,4", "--concurrency", "1,2", "--precision", "fp32", "--duration", "300ms", "--window", "100ms",
            "--p95-slo", "100000", "--json", "--csv", csv, "--chart", svg, "--chart-size", "640x480", "--broker", _cluster.BrokerUrl);

        Assert.True(result.ExitCode == 0, result.StdErr);
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        JsonElement r = json.RootElement;
        JsonElement[] cells = [.. r.GetProperty("cells").EnumerateArray()];
        Assert.Equal(["fp32 batch 1 x 1", "fp32 batch 1 x 2", "fp32 batch 4 x 1", "fp32 batch 4 x 2"], cells.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal((4, 4, false), (r.GetProperty("total_cells").GetInt32(), r.GetProperty("measured_cells").GetInt32(), r.GetProperty("interrupted").GetBoolean()));
        double perHour = r.GetProperty("prices").GetProperty("price_per_hour").GetDouble();
        foreach (JsonElement cell in cells)
        {
            double inferences = cell.GetProperty("inferences_per_second").GetDouble();
            Assert.Equal(cell.GetProperty("requests_per_second").GetDouble() * cell.GetProperty("batch").GetInt32(), inferences, 6);
            Assert.Equal(perHour / (inferences * 3600) * 1_000_000, cell.GetProperty("cost_per_million").GetDouble(), 9);
            Assert.True(cell.GetProperty("meets_slo").GetBoolean());
            Assert.Equal(cell.GetProperty("requests").GetInt32(), cell.GetProperty("succeeded").GetInt32());
        }

        // The knee and the best follow from the cells as printed.
        JsonElement knee = Assert.Single(r.GetProperty("knees").EnumerateArray());
        double best = cells.Max(c => c.GetProperty("inferences_per_second").GetDouble());
        int expectedKnee = cells.GroupBy(c => c.GetProperty("batch").GetInt32())
            .Where(g => g.Max(c => c.GetProperty("inferences_per_second").GetDouble()) >= 0.95 * best).Min(g => g.Key);
        Assert.Equal(expectedKnee, knee.GetProperty("batch").GetInt32());
        string bestCell = cells.MaxBy(c => c.GetProperty("inferences_per_second").GetDouble()).GetProperty("name").GetString()!;
        Assert.Equal(bestCell, r.GetProperty("best").GetString());

        string[] lines = File.ReadAllLines(csv);
        Assert.StartsWith("precision,batch,concurrency,requests,succeeded,failures,requests_per_second,inferences_per_second,", lines[0]);
        Assert.Equal(5, lines.Length);
        foreach (string suffix in new[] { "throughput-vs-p95", "throughput-vs-batch", "cost-vs-batch" })
        {
            XElement root = XDocument.Load(Path.Combine(dir, $"sweep-{suffix}.svg")).Root!;
            Assert.Equal("640", root.Attribute("width")!.Value);
        }

        Assert.Single(r.GetProperty("unloaded_model_ids").EnumerateArray());
        Assert.Empty((await ListModelsAsync(host)).Models);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task CheckAccuracyComparesEachPrecisionWithFp32AndLeavesNothingLoaded()
    {
        string host = await AttachAsync();

        // fp16 first: its fp32 reference is loaded by the check alone and must go at once; fp32's is itself.
        CliProcess.Result result = await CliInProcess.RunAsync("sweep", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0",
            "--input-shape", "1,16", "--batch", "2", "--concurrency", "1", "--precision", "fp16,fp32", "--duration", "200ms", "--window", "100ms",
            "--check-accuracy", "--json", "--broker", _cluster.BrokerUrl);

        Assert.True(result.ExitCode == 0, result.StdErr);
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        JsonElement[] accuracy = [.. json.RootElement.GetProperty("accuracy").EnumerateArray()];
        Assert.Equal(["fp16", "fp32"], accuracy.Select(a => a.GetProperty("precision").GetString()));
        Assert.All(accuracy, a => Assert.Equal(JsonValueKind.Null, a.GetProperty("not_checked_reason").ValueKind));
        JsonElement half = Assert.Single(accuracy[0].GetProperty("outputs").EnumerateArray());
        Assert.Equal([2L, 8L], half.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.InRange(half.GetProperty("cosine_similarity").GetDouble(), 0.99, 1.0);
        Assert.InRange(half.GetProperty("max_abs_difference").GetDouble(), 1e-9, 0.1);
        JsonElement full = Assert.Single(accuracy[1].GetProperty("outputs").EnumerateArray());
        Assert.Equal(1.0, full.GetProperty("cosine_similarity").GetDouble(), 9);
        Assert.Equal(0.0, full.GetProperty("max_abs_difference").GetDouble());
        Assert.Empty((await ListModelsAsync(host)).Models);
    }

    [Fact]
    public async Task WithoutCheckAccuracyTheReportHasNone()
    {
        string host = await AttachAsync();

        CliProcess.Result result = await CliInProcess.RunAsync("sweep", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0",
            "--input-shape", "1,16", "--batch", "1", "--concurrency", "1", "--precision", "fp32", "--duration", "100ms", "--window", "50ms",
            "--json", "--broker", _cluster.BrokerUrl);

        Assert.True(result.ExitCode == 0, result.StdErr);
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("accuracy").ValueKind);
    }

    [Fact]
    public async Task ABadGridIsOneLineAndNothingLoads()
    {
        CliProcess.Result result = await CliInProcess.RunAsync("sweep", Fixtures.Path("demo_mlp.pt"), "--host", "nobody", "--ordinal", "0",
            "--input-shape", "1,16", "--batch", "1,x", "--broker", _cluster.BrokerUrl);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("accel: error: --batch takes comma-separated integers from 1 to 65536, such as 1,4,8, got '1,x'", Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task CtrlCStopsTheSweepKeepsWhatWasMeasuredAndLeavesNoModelLoaded()
    {
        string host = await AttachAsync();
        // Long cells: the interruption lands while the grid is far from done.
        string[] args = TestCredentials.WithKey(["sweep", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0", "--input-shape", "1,16",
            "--batch", "1,2", "--concurrency", "1,2", "--precision", "fp32,fp16", "--duration", "20s", "--window", "100ms", "--broker", _cluster.BrokerUrl]);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "accel.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("ACCEL_BROKER");
        start.Environment.Remove("ACCEL_API_KEY");
        using Process process = new() { StartInfo = start };
        var errorLines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var secondCell = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            errorLines.Enqueue(e.Data);
            // The second cell has started: the first is measured, the model is loaded, the grid is far from done.
            if (e.Data.StartsWith("accel: sweep: cell 2/", StringComparison.Ordinal))
            {
                secondCell.TrySetResult();
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = new CancellationTokenSource(ProcessLimit);
        try
        {
            await secondCell.Task.WaitAsync(limit.Token);
            using (Process kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync(limit.Token);
            }

            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"accel did not finish within {ProcessLimit}: {string.Join('\n', errorLines)}");
        }

        string error = string.Join('\n', errorLines);
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}: {error}");
        Assert.Contains("accel: interrupted: ", error);
        Assert.Contains("cells measured; the models this sweep loaded were unloaded", error);
        // What was measured before the interruption (at least the first cell) is printed.
        Assert.Matches("[1-7] of 8 cells measured \\(interrupted\\)", output.ToString());
        Assert.Empty((await ListModelsAsync(host)).Models);
    }

    // The in-process agent's own client (a minted slice token), so the listing does not go through the broker or pooled channels.
    private async Task<ListModelsResponse> ListModelsAsync(string host)
    {
        string slice = _slices[host];
        return await _cluster.AgentClient.ListModelsAsync(new ListModelsRequest { SliceId = slice }, deadline: TestCluster.Deadline()).ResponseAsync;
    }

    private async Task<string> AttachAsync()
    {
        string host = "sweep-" + Guid.NewGuid().ToString("N")[..8];
        AttachResponse attached = await _cluster.BrokerClient.AttachAsync(new AttachRequest { Host = host, SliceType = TestCluster.TinySlice, HostType = "c5.large" }, deadline: TestCluster.Deadline());
        _slices[host] = attached.Accelerator.Id;
        return host;
    }
}
