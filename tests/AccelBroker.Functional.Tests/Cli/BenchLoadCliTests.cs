using System.Text.Json;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Xunit;

namespace AccelBroker.Tests.Cli;

/// <summary><c>accel bench</c> under load (--concurrency, --rate, --duration), in this process, against a real broker and agent on loopback.</summary>
public sealed class BenchLoadCliTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;
    private readonly Dictionary<string, string> _slices = [];

    public BenchLoadCliTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task ConcurrentCallersMakeTheRequestedRunsAndReportBothCostsWithTheirDefinitions()
    {
        string host = await AttachAsync();

        using JsonDocument json = await JsonAsync("bench", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0",
            "--input", Fixtures.Path("demo_mlp.input0.npy"), "--batch", "2", "-n", "120", "--concurrency", "4", "--window", "1ms", "--json");

        JsonElement r = json.RootElement;
        Assert.Equal("closed loop, 4 callers", r.GetProperty("mode").GetString());
        Assert.Equal(4, r.GetProperty("concurrency").GetInt32());
        Assert.Equal(120, r.GetProperty("runs").GetInt32());
        Assert.Equal(120, r.GetProperty("succeeded").GetInt32());
        Assert.Empty(r.GetProperty("failures_by_status").EnumerateObject());
        Assert.Equal("requests", r.GetProperty("stopped_because").GetString());
        Assert.Equal(120, r.GetProperty("latency_ms").GetProperty("count").GetInt32());
        JsonElement throughput = r.GetProperty("throughput");
        double requests = throughput.GetProperty("requests_per_second").GetDouble();
        Assert.Equal(requests * 2, throughput.GetProperty("inferences_per_second").GetDouble(), 6);
        Assert.Equal(120 / throughput.GetProperty("measured_seconds").GetDouble(), requests, 6);
        double perHour = r.GetProperty("prices").GetProperty("price_per_hour").GetDouble();
        double mean = r.GetProperty("latency_ms").GetProperty("mean_ms").GetDouble();
        Assert.Equal(perHour / 3600 * (mean / 1000) * 100_000, r.GetProperty("cost_per_100k").GetDouble(), 9);
        Assert.Equal(perHour / (requests * 2 * 3600) * 1_000_000, r.GetProperty("cost_per_million_items").GetDouble(), 9);
        Assert.StartsWith("seed 002", r.GetProperty("cost_definitions").GetProperty("cost_per_100k").GetString());
        Assert.StartsWith("seed 000", r.GetProperty("cost_definitions").GetProperty("cost_per_million_items").GetString());

        // 120 calls in windows of at least 50: two windows, so every interval exists and holds its mean.
        JsonElement[] windows = [.. r.GetProperty("windows").EnumerateArray()];
        Assert.Equal(2, windows.Length);
        Assert.Equal(120, windows.Sum(w => w.GetProperty("requests").GetInt32()));
        JsonElement ci = r.GetProperty("confidence_intervals");
        Assert.Equal(2, ci.GetProperty("windows").GetInt32());
        Assert.Contains("Student's t", ci.GetProperty("method").GetString());
        double windowMean = windows.Average(w => w.GetProperty("requests_per_second").GetDouble());
        JsonElement rps = ci.GetProperty("requests_per_second");
        Assert.InRange(windowMean, rps.GetProperty("low").GetDouble(), rps.GetProperty("high").GetDouble());
        JsonElement cost = ci.GetProperty("cost_per_million_items");
        if (cost.ValueKind != JsonValueKind.Null)
        {
            Assert.True(cost.GetProperty("low").GetDouble() <= cost.GetProperty("high").GetDouble());
        }

        JsonElement cpu = r.GetProperty("generator_cpu");
        Assert.True(cpu.GetProperty("process_cores").GetDouble() >= 0);
        Assert.Equal(Environment.ProcessorCount, cpu.GetProperty("cores").GetInt32());
        Assert.Contains("saturated when", cpu.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task AnOpenLoopRunsForTheDurationAndAccountsForEveryArrival()
    {
        string host = await AttachAsync();

        using JsonDocument json = await JsonAsync("bench", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0",
            "--input-shape", "1,16", "--rate", "100", "--duration", "1s", "--window", "250ms", "--json");

        JsonElement r = json.RootElement;
        Assert.StartsWith("open loop, Poisson 100/s", r.GetProperty("mode").GetString());
        Assert.Equal(100, r.GetProperty("rate").GetDouble());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("concurrency").ValueKind);
        Assert.Equal("duration", r.GetProperty("stopped_because").GetString());
        int runs = r.GetProperty("runs").GetInt32();
        Assert.True(runs > 0);
        Assert.Equal(runs, r.GetProperty("succeeded").GetInt32() + r.GetProperty("failures_by_status").EnumerateObject().Sum(f => f.Value.GetInt32()));
        Assert.True(r.GetProperty("not_issued").GetInt32() >= 0);
    }

    [Fact]
    public async Task ADurationRunPrintsTheLoadTheCostsAndWhetherItWasStable()
    {
        string host = await AttachAsync();

        CliProcess.Result result = await CliInProcess.RunAsync("bench", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0",
            "--input-shape", "1,16", "--concurrency", "2", "--duration", "600ms", "--window", "100ms", "--broker", _cluster.BrokerUrl);

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("load: closed loop, 2 callers; stop: 0.6 s (stopped: duration)", result.StdOut);
        Assert.Contains("cost per 100k inferences (mean latency): $", result.StdOut);
        Assert.Contains("per 1M (throughput): $", result.StdOut);
        Assert.Contains("seed 000: price per hour / (inferences per second x 3600) x 1,000,000", result.StdOut);
        Assert.Matches("stability: (stable|not stable) \\(windows of 0.1 s", result.StdOut);
        Assert.Contains("generator CPU: ", result.StdOut);
        Assert.Contains("failures by status: none", result.StdOut);
    }

    [Fact]
    public async Task CheckAccuracyAtFp16KeepsTheBenchedModelAndUnloadsOnlyTheFp32ReferenceItLoaded()
    {
        string host = await AttachAsync();

        using JsonDocument json = await JsonAsync("bench", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0",
            "--input-shape", "1,16", "-n", "10", "--precision", "fp16", "--check-accuracy", "--json");

        JsonElement accuracy = json.RootElement.GetProperty("accuracy");
        Assert.Equal(("fp16", "fp32"), (accuracy.GetProperty("precision").GetString(), accuracy.GetProperty("reference").GetString()));
        JsonElement output = Assert.Single(accuracy.GetProperty("outputs").EnumerateArray());
        Assert.InRange(output.GetProperty("cosine_similarity").GetDouble(), 0.99, 1.0);
        Assert.InRange(output.GetProperty("max_abs_difference").GetDouble(), 1e-9, 0.1);
        // bench leaves its model loaded (the slice may be an application's); the reference it added is gone.
        Assert.Equal(["Fp16"], await LoadedPrecisionsAsync(host));
    }

    [Fact]
    public async Task CheckAccuracyLeavesAnFp32ModelTheSliceAlreadyHeld()
    {
        string host = await AttachAsync();
        _ = await JsonAsync("bench", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0", "--input-shape", "1,16", "-n", "2", "--json");

        CliProcess.Result result = await CliInProcess.RunAsync("bench", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0",
            "--input-shape", "1,16", "-n", "10", "--precision", "bf16", "--check-accuracy", "--broker", _cluster.BrokerUrl);

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Matches("accuracy of bf16 against fp32 on the same inputs \\(lowest cosine similarity, largest absolute difference\\): 0\\.99[0-9]+, ", result.StdOut);
        Assert.Equal(["Bf16", "Fp32"], await LoadedPrecisionsAsync(host));
    }

    [Theory]
    [InlineData(new[] { "--concurrency", "0" }, "--concurrency must be between 1 and 1024, got 0")]
    [InlineData(new[] { "--concurrency", "2", "--rate", "10" }, "give either --concurrency (closed loop) or --rate (open loop), not both")]
    [InlineData(new[] { "--rate", "0" }, "--rate must be between 0 and 1000000 requests per second, got 0")]
    [InlineData(new[] { "--duration", "soon" }, "--duration must be a duration such as 30, 30s, 500ms or 2m, got 'soon'")]
    [InlineData(new[] { "--window", "0" }, "--window must be between 0.001 s and 3600 s, got '0'")]
    [InlineData(new[] { "--until-stable", "--max-windows", "2" }, "--max-windows must be between 3 and 1000, got 2")]
    public async Task ABadLoadOptionIsOneLineBeforeAnythingRuns(string[] options, string expected)
    {
        CliProcess.Result result = await CliInProcess.RunAsync(["bench", Fixtures.Path("demo_mlp.pt"), "--host", "nobody", "--ordinal", "0",
            "--input-shape", "1,16", .. options, "--broker", _cluster.BrokerUrl]);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"accel: error: {expected}", Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    private async Task<string> AttachAsync()
    {
        string host = "load-" + Guid.NewGuid().ToString("N")[..8];
        AttachResponse attached = await _cluster.BrokerClient.AttachAsync(new AttachRequest { Host = host, SliceType = TestCluster.TinySlice, HostType = "c5.large" }, deadline: TestCluster.Deadline());
        _slices[host] = attached.Accelerator.Id;
        return host;
    }

    private async Task<string[]> LoadedPrecisionsAsync(string host)
    {
        ListModelsResponse listed = await _cluster.AgentClient.ListModelsAsync(new ListModelsRequest { SliceId = _slices[host] }, deadline: TestCluster.Deadline()).ResponseAsync;
        return [.. listed.Models.Select(m => m.Precision.ToString()).Order(StringComparer.Ordinal)];
    }

    private async Task<JsonDocument> JsonAsync(params string[] args)
    {
        CliProcess.Result result = await CliInProcess.RunAsync([.. args, "--broker", _cluster.BrokerUrl]);
        Assert.True(result.ExitCode == 0, $"accel {string.Join(' ', args)} failed: {result.StdErr}");
        return JsonDocument.Parse(result.StdOut);
    }
}
