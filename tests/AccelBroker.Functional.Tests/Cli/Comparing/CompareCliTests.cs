using System.Text.Json;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using SkiaSharp;
using Xunit;

namespace AccelBroker.Tests.Cli.Comparing;

/// <summary>
/// <c>accel compare</c>'s batch, callers, does-not-fit rows, baseline, CPU naming and accuracy check, run in this
/// process against a real broker and agent on loopback.
/// </summary>
public sealed class CompareCliTests : IClassFixture<ClusterFixture>
{
    private const int Runs = 20;
    private readonly TestCluster _cluster;

    public CompareCliTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task BatchAndConcurrencyApplyToEveryRowAndThroughputCountsInferences()
    {
        using JsonDocument json = await JsonAsync("compare", Fixtures.Path("demo_mlp.pt"), "--host-types", "c5.large", "--slice-types", "eia2.medium",
            "--standalone", "c5.xlarge", "--input", Fixtures.Path("demo_mlp.input0.npy"), "--batch", "3", "--concurrency", "2", "-n", $"{Runs}", "--json");

        JsonElement root = json.RootElement;
        Assert.Equal((3, 2), (root.GetProperty("batch").GetInt64(), root.GetProperty("concurrency").GetInt32()));
        Assert.Equal("cost_per_million_items", root.GetProperty("ranked_by").GetString());
        JsonElement[] rows = [.. root.GetProperty("rows").EnumerateArray()];
        Assert.Equal(2, rows.Length);
        foreach (JsonElement row in rows)
        {
            Assert.Equal((3, 2), (row.GetProperty("batch").GetInt64(), row.GetProperty("concurrency").GetInt32()));
            Assert.Equal(Runs, row.GetProperty("latency_ms").GetProperty("count").GetInt32());
            JsonElement throughput = row.GetProperty("throughput");
            double requests = throughput.GetProperty("requests_per_second").GetDouble();
            Assert.True(requests > 0);
            Assert.Equal(requests * 3, throughput.GetProperty("items_per_second").GetDouble(), 6);
            Assert.Equal(row.GetProperty("price_per_hour").GetDouble() / (requests * 3 * 3600) * 1_000_000, row.GetProperty("cost_per_million_items").GetDouble(), 9);
            JsonElement ci = row.GetProperty("mean_latency_ci95_ms");
            double mean = row.GetProperty("latency_ms").GetProperty("mean_ms").GetDouble();
            Assert.True(ci.GetProperty("low").GetDouble() <= mean && mean <= ci.GetProperty("high").GetDouble(), ci.ToString());
            Assert.Contains("2 ", row.GetProperty("measured_how").GetString());
        }

        // The cheapest per million items comes first.
        Assert.True(rows[0].GetProperty("cost_per_million_items").GetDouble() <= rows[1].GetProperty("cost_per_million_items").GetDouble());
        JsonElement cpu = rows.Single(r => r.GetProperty("instance").GetString() == "c5.xlarge");
        Assert.Equal("closed loop, 2 in-process caller threads, one model copy each", cpu.GetProperty("measured_how").GetString());
        string executedOn = cpu.GetProperty("executed_on").GetString()!;
        Assert.Matches(@"^cpu, in-process on this machine's CPU: .+, \d+ cores?$", executedOn);
        Assert.EndsWith($", {Environment.ProcessorCount} {(Environment.ProcessorCount == 1 ? "core" : "cores")}", executedOn);
        JsonElement attached = rows.Single(r => r.GetProperty("instance").GetString() == "c5.large + eia2.medium");
        Assert.Equal("closed loop, 2 callers on one session, one request in flight each", attached.GetProperty("measured_how").GetString());
    }

    [Fact]
    public async Task ASliceTypeTheModelDoesNotFitIsARowAndTheOtherRowsStillCome()
    {
        string dir = Directory.CreateTempSubdirectory("accel-compare-").FullName;
        string csv = Path.Combine(dir, "rows.csv");
        string png = Path.Combine(dir, "chart.png");
        int before = await AttachedCountAsync();

        // identity.pt's warm-up on 16 MiB of input peaks at twice that: more than test.tiny's 16 MiB.
        using JsonDocument json = await JsonAsync("compare", Fixtures.Path("identity.pt"), "--host-types", "c5.large", "--slice-types", $"{TestCluster.TinySlice},eia2.medium",
            "--standalone", "c5.xlarge", "--input-shape", "1,4194304", "-n", "5", "--p90-slo", "100000", "--json", "--csv", csv, "--chart", png, "--chart-size", "800x500");

        JsonElement[] rows = [.. json.RootElement.GetProperty("rows").EnumerateArray()];
        Assert.Equal(3, rows.Length);
        JsonElement tiny = rows[^1];
        Assert.Equal($"c5.large + {TestCluster.TinySlice}", tiny.GetProperty("instance").GetString());
        JsonElement fit = tiny.GetProperty("does_not_fit");
        long needs = fit.GetProperty("needs_bytes").GetInt64();
        Assert.Equal(16L << 20, fit.GetProperty("slice_holds_bytes").GetInt64());
        Assert.True(needs > 16L << 20, fit.ToString());
        Assert.Matches(@"^does not fit: needs \d+\.\d MiB \(measured\), slice holds 16\.0 MiB$", tiny.GetProperty("not_measured_reason").GetString());
        Assert.Equal(JsonValueKind.Null, tiny.GetProperty("latency_ms").ValueKind);
        Assert.All(rows[..2], r => Assert.Equal(5, r.GetProperty("latency_ms").GetProperty("count").GetInt32()));
        Assert.Equal(["c5.large + eia2.medium", "c5.xlarge"], rows[..2].Select(r => r.GetProperty("instance").GetString()).Order());

        string line = File.ReadAllLines(csv).Single(l => l.StartsWith($"c5.large + {TestCluster.TinySlice},", StringComparison.Ordinal));
        Assert.Contains($",{needs},{16L << 20},", line);
        Assert.Contains("does not fit: needs ", line);
        using SKBitmap? bitmap = SKBitmap.Decode(png);
        Assert.Equal((800, 500), (bitmap!.Width, bitmap.Height));
        Assert.Equal(before, await AttachedCountAsync());
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task TheBaselineAddsThroughputAndCostRatiosAgainstOneRow()
    {
        const string Baseline = "c5.large + eia2.medium";
        using JsonDocument json = await JsonAsync("compare", Fixtures.Path("demo_mlp.pt"), "--host-types", "c5.large", "--slice-types", "eia2.medium",
            "--standalone", "c5.xlarge", "--input-shape", "1,16", "-n", $"{Runs}", "--baseline", Baseline, "--json");

        Assert.Equal(Baseline, json.RootElement.GetProperty("baseline").GetString());
        JsonElement[] rows = [.. json.RootElement.GetProperty("rows").EnumerateArray()];
        JsonElement basis = rows.Single(r => r.GetProperty("instance").GetString() == Baseline);
        JsonElement cpu = rows.Single(r => r.GetProperty("instance").GetString() == "c5.xlarge");
        Assert.Equal(1.0, basis.GetProperty("vs_baseline").GetProperty("throughput_ratio").GetDouble(), 9);
        Assert.Equal(1.0, basis.GetProperty("vs_baseline").GetProperty("cost_benefit").GetDouble(), 9);
        JsonElement ratio = cpu.GetProperty("vs_baseline");
        Assert.Equal(Baseline, ratio.GetProperty("baseline").GetString());
        Assert.Equal(Items(cpu) / Items(basis), ratio.GetProperty("throughput_ratio").GetDouble(), 9);
        Assert.Equal(basis.GetProperty("cost_per_100k").GetDouble() / cpu.GetProperty("cost_per_100k").GetDouble(), ratio.GetProperty("cost_benefit").GetDouble(), 9);

        static double Items(JsonElement row) => row.GetProperty("throughput").GetProperty("items_per_second").GetDouble();
    }

    [Theory]
    [InlineData("--baseline", "m9.none", "accel: error: --baseline 'm9.none' is not a row of this comparison; rows: c5.large + eia2.medium, c5.xlarge")]
    [InlineData("--concurrency", "0", "accel: error: --concurrency must be between 1 and 256, got 0")]
    public async Task ABadBaselineOrConcurrencyIsOneLineBeforeAnythingIsAttached(string option, string value, string expected)
    {
        int before = await AttachedCountAsync();

        CliProcess.Result result = await CliInProcess.RunAsync("compare", Fixtures.Path("demo_mlp.pt"), "--host-types", "c5.large", "--slice-types", "eia2.medium",
            "--standalone", "c5.xlarge", "--input-shape", "1,16", "-n", "5", option, value, "--broker", _cluster.BrokerUrl);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(expected, Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal(before, await AttachedCountAsync());
    }

    [Fact]
    public async Task CheckingFp32AgainstItselfGivesCosineOneAndNoDifference()
    {
        using JsonDocument json = await JsonAsync("compare", Fixtures.Path("demo_mlp.pt"), "--host-types", "c5.large", "--slice-types", "eia2.medium",
            "--standalone", "c5.xlarge", "--input", Fixtures.Path("demo_mlp.input0.npy"), "-n", "5", "--check-accuracy", "--json");

        Assert.True(json.RootElement.GetProperty("check_accuracy").GetBoolean());
        foreach (JsonElement row in json.RootElement.GetProperty("rows").EnumerateArray())
        {
            JsonElement accuracy = row.GetProperty("accuracy");
            Assert.Equal(JsonValueKind.Null, accuracy.GetProperty("not_checked_reason").ValueKind);
            JsonElement output = Assert.Single(accuracy.GetProperty("outputs").EnumerateArray());
            Assert.Equal([1L, 8L], output.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            Assert.Equal(1.0, output.GetProperty("cosine_similarity").GetDouble(), 9);
            Assert.Equal(0.0, output.GetProperty("max_abs_difference").GetDouble(), 9);
        }
    }

    [Theory]
    [InlineData("fp16")]
    [InlineData("bf16")]
    public async Task ReducedPrecisionIsCloseToFp32ButNotEqualOrTheRowSaysWhyItWasNotChecked(string precision)
    {
        using JsonDocument json = await JsonAsync("compare", Fixtures.Path("demo_mlp.pt"), "--host-types", "c5.large", "--slice-types", "eia2.medium",
            "--standalone", "c5.xlarge", "--input", Fixtures.Path("demo_mlp.input0.npy"), "-n", "5", "--precision", precision, "--check-accuracy", "--json");

        JsonElement[] rows = [.. json.RootElement.GetProperty("rows").EnumerateArray()];
        Assert.Equal(2, rows.Length);
        foreach (JsonElement row in rows)
        {
            if (row.GetProperty("accuracy").ValueKind == JsonValueKind.Null)
            {
                // Not run at all at this precision on this CPU: the row says why, and the other rows still came.
                Assert.Contains($"at {precision}", row.GetProperty("not_measured_reason").GetString());
                continue;
            }

            JsonElement accuracy = row.GetProperty("accuracy");
            Assert.Equal(precision, accuracy.GetProperty("precision").GetString());
            if (accuracy.GetProperty("not_checked_reason").GetString() is { } reason)
            {
                Assert.Contains(precision, reason);
                continue;
            }

            JsonElement output = Assert.Single(accuracy.GetProperty("outputs").EnumerateArray());
            Assert.InRange(output.GetProperty("cosine_similarity").GetDouble(), 0.99, 1.0);
            Assert.InRange(output.GetProperty("max_abs_difference").GetDouble(), 1e-9, 0.5);
        }
    }

    private async Task<int> AttachedCountAsync()
    {
        DescribeAgentsResponse agents = await _cluster.BrokerClient.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline());
        return agents.Agents.Sum(a => a.Accelerators.Count);
    }

    private async Task<JsonDocument> JsonAsync(params string[] args)
    {
        CliProcess.Result result = await CliInProcess.RunAsync([.. args, "--broker", _cluster.BrokerUrl]);
        Assert.True(result.ExitCode == 0, $"accel {string.Join(' ', args)} failed: {result.StdErr}");
        try
        {
            return JsonDocument.Parse(result.StdOut);
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"accel {string.Join(' ', args)} printed what is not JSON ({e.Message}):\n{result.StdOut}");
        }
    }
}
