using System.Text.Json;
using System.Xml.Linq;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using SkiaSharp;
using Xunit;

namespace AccelBroker.Tests.Cli;

/// <summary><c>accel bench</c> and <c>accel compare</c>, run in this process, against a real broker and agent on loopback.</summary>
public sealed class BenchCompareCliTests : IClassFixture<ClusterFixture>
{
    private const int Runs = 20;
    private readonly TestCluster _cluster;

    public BenchCompareCliTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task BenchJsonReportsDistributionThroughputDeviceSplitAndPrices()
    {
        string host = "bench-" + Guid.NewGuid().ToString("N")[..8];
        AttachResponse attached = await _cluster.BrokerClient.AttachAsync(
            new AttachRequest { Host = host, SliceType = TestCluster.TinySlice, HostType = "c5.large" }, deadline: TestCluster.Deadline());

        using JsonDocument json = await JsonAsync("bench", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0",
            "--input", Fixtures.Path("demo_mlp.input0.npy"), "--batch", "3", "-n", $"{Runs}", "--warmup", "2", "--json");

        JsonElement r = json.RootElement;
        Assert.Equal(attached.Accelerator.Id, r.GetProperty("accelerator_id").GetString());
        Assert.Equal("cpu", r.GetProperty("device").GetString());
        Assert.Equal(Runs, r.GetProperty("runs").GetInt32());
        Assert.Equal(2, r.GetProperty("warmup").GetInt32());
        Assert.Equal(3, r.GetProperty("batch").GetInt64());
        Assert.Equal([3L, 16L], r.GetProperty("inputs")[0].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        JsonElement latency = r.GetProperty("latency_ms");
        Assert.Equal(Runs, latency.GetProperty("count").GetInt32());
        double min = latency.GetProperty("min_ms").GetDouble(), p50 = latency.GetProperty("p50_ms").GetDouble(), p90 = latency.GetProperty("p90_ms").GetDouble();
        double p95 = latency.GetProperty("p95_ms").GetDouble(), p99 = latency.GetProperty("p99_ms").GetDouble(), max = latency.GetProperty("max_ms").GetDouble();
        double mean = latency.GetProperty("mean_ms").GetDouble();
        Assert.True(0 < min && min <= p50 && p50 <= p90 && p90 <= p95 && p95 <= p99 && p99 <= max && min <= mean && mean <= max, latency.ToString());
        double requests = r.GetProperty("throughput").GetProperty("requests_per_second").GetDouble();
        Assert.True(requests > 0);
        Assert.Equal(requests * 3, r.GetProperty("throughput").GetProperty("items_per_second").GetDouble(), 6);
        JsonElement split = r.GetProperty("agent_split_ms");
        Assert.True(split.GetProperty("compute_ms").GetDouble() > 0);
        Assert.True(split.GetProperty("compute_ms").GetDouble() < mean);
        JsonElement prices = r.GetProperty("prices");
        Assert.Equal("c5.large", prices.GetProperty("host_type").GetString());
        Assert.Equal(0.085, prices.GetProperty("host_price_per_hour").GetDouble());
        Assert.Equal(TestCluster.TinySlice, prices.GetProperty("slice_type").GetString());
        double perHour = prices.GetProperty("price_per_hour").GetDouble();
        Assert.Equal(0.085 + 0.001, perHour, 9);
        Assert.Equal(perHour / 3600 * (mean / 1000) * 100_000, r.GetProperty("cost_per_100k").GetDouble(), 9);
        Assert.Equal(perHour / (requests * 3 * 3600) * 1_000_000, r.GetProperty("cost_per_million_items").GetDouble(), 9);
    }

    [Theory]
    [InlineData("1,x")]
    [InlineData("0,16")]
    [InlineData("")]
    public async Task ABadInputShapeIsOneLineBeforeAnythingRuns(string shape)
    {
        CliProcess.Result result = await CliInProcess.RunAsync("bench", Fixtures.Path("demo_mlp.pt"), "--host", "nobody", "--ordinal", "0",
            "--input-shape", shape, "--broker", _cluster.BrokerUrl);

        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"accel: error: --input-shape must be comma-separated positive integers such as 1,3,224,224, got '{shape}'", line);
    }

    [Theory]
    [InlineData("--host-types", "c9.huge", "unknown host type 'c9.huge'; known: c5.large")]
    [InlineData("--slice-types", "eia9.giant", "unknown slice type 'eia9.giant'; known: ")]
    [InlineData("--standalone", "z1.none", "unknown standalone instance type 'z1.none'; known: c5.large")]
    public async Task AnUnknownTypeIsRefusedListingTheKnownOnesBeforeAnythingIsAttached(string option, string value, string expected)
    {
        int before = await AttachedCountAsync();
        string[] args = option switch
        {
            "--host-types" => ["--host-types", value, "--slice-types", "eia2.medium"],
            "--slice-types" => ["--host-types", "c5.large", "--slice-types", $"eia2.medium,{value}"],
            _ => ["--standalone", $"c5.xlarge,{value}"],
        };

        CliProcess.Result result = await CliInProcess.RunAsync(["compare", Fixtures.Path("demo_mlp.pt"), .. args, "--input-shape", "1,16", "-n", "5", "--broker", _cluster.BrokerUrl]);

        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line);
        Assert.Contains("eia2.medium", option == "--slice-types" ? line : "eia2.medium");
        Assert.Equal(before, await AttachedCountAsync());
    }

    [Fact]
    public async Task CompareMeasuresEveryKindPricesEachHostTypeAndPicksTheCheapestThatMeetsTheSlo()
    {
        string dir = Directory.CreateTempSubdirectory("accel-compare-").FullName;
        string csv = Path.Combine(dir, "rows.csv");
        string png = Path.Combine(dir, "chart.png");

        using JsonDocument json = await JsonAsync("compare", Fixtures.Path("demo_mlp.pt"),
            "--host-types", "c5.large,m5.large", "--slice-types", "eia2.medium,eia2.large", "--standalone", "c5.xlarge,g4dn.xlarge",
            "--p90-slo", "100000", "--input", Fixtures.Path("demo_mlp.input0.npy"), "-n", $"{Runs}",
            "--json", "--csv", csv, "--chart", png, "--chart-size", "900x500");

        JsonElement root = json.RootElement;
        Assert.Equal(100000, root.GetProperty("slo").GetProperty("p90_ms").GetDouble());
        JsonElement[] rows = [.. root.GetProperty("rows").EnumerateArray()];
        Assert.Equal(6, rows.Length);
        JsonElement[] attachedRows = rows.Where(r => r.GetProperty("kind").GetString() == "host+accelerator").ToArray();
        Assert.Equal(["c5.large + eia2.large", "c5.large + eia2.medium", "m5.large + eia2.large", "m5.large + eia2.medium"], attachedRows.Select(r => r.GetProperty("instance").GetString()).Order());
        Assert.All(attachedRows, r => Assert.Equal("cpu, remote agent on loopback", r.GetProperty("executed_on").GetString()));
        // One measurement per slice type, priced with each host type.
        JsonElement c5Medium = rows.Single(r => r.GetProperty("instance").GetString() == "c5.large + eia2.medium");
        JsonElement m5Medium = rows.Single(r => r.GetProperty("instance").GetString() == "m5.large + eia2.medium");
        Assert.Equal(c5Medium.GetProperty("latency_ms").GetProperty("mean_ms").GetDouble(), m5Medium.GetProperty("latency_ms").GetProperty("mean_ms").GetDouble());
        Assert.Equal(0.085 + 0.12, c5Medium.GetProperty("price_per_hour").GetDouble(), 9);
        Assert.Equal(Runs, c5Medium.GetProperty("latency_ms").GetProperty("count").GetInt32());
        Assert.Equal((0.085 + 0.12) / 3600 * c5Medium.GetProperty("latency_ms").GetProperty("mean_ms").GetDouble() / 1000 * 100_000, c5Medium.GetProperty("cost_per_100k").GetDouble(), 9);

        JsonElement cpu = rows.Single(r => r.GetProperty("instance").GetString() == "c5.xlarge");
        Assert.Equal("standalone cpu", cpu.GetProperty("kind").GetString());
        Assert.StartsWith("cpu, in-process on this machine's CPU: ", cpu.GetProperty("executed_on").GetString());
        Assert.Equal(Runs, cpu.GetProperty("latency_ms").GetProperty("count").GetInt32());

        JsonElement gpu = rows.Single(r => r.GetProperty("instance").GetString() == "g4dn.xlarge");
        Assert.Equal("standalone gpu", gpu.GetProperty("kind").GetString());
        DescribeAgentsResponse agents = await _cluster.BrokerClient.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline());
        bool cudaAgent = agents.Agents.Any(a => a.Health == AgentHealth.Healthy && a.InstanceType == "g4dn.xlarge" && a.Device.Kind == "cuda");
        if (cudaAgent)
        {
            Assert.StartsWith("cuda", gpu.GetProperty("executed_on").GetString());
        }
        else
        {
            Assert.Equal(JsonValueKind.Null, gpu.GetProperty("latency_ms").ValueKind);
            Assert.Equal(JsonValueKind.Null, gpu.GetProperty("cost_per_100k").ValueKind);
            Assert.Equal("no healthy cuda agent of instance type g4dn.xlarge", gpu.GetProperty("not_measured_reason").GetString());
        }

        // Everything measured meets a 100 s P90: the cheapest measured row is chosen.
        JsonElement[] measured = rows.Where(r => r.GetProperty("latency_ms").ValueKind != JsonValueKind.Null).ToArray();
        Assert.All(measured, r => Assert.True(r.GetProperty("meets_slo").GetBoolean()));
        string cheapest = measured.MinBy(r => r.GetProperty("cost_per_100k").GetDouble()).GetProperty("instance").GetString()!;
        Assert.Equal(cheapest, root.GetProperty("cheapest").GetString());

        // Nothing stays attached to the temporary host.
        string tempHost = root.GetProperty("temp_host").GetString()!;
        DescribeAcceleratorsResponse left = await _cluster.BrokerClient.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = tempHost }, deadline: TestCluster.Deadline());
        Assert.Empty(left.Accelerators);

        string[] lines = File.ReadAllLines(csv);
        Assert.StartsWith("instance,kind,host_type,slice_type,executed_on,price_per_hour,p50_ms,p90_ms,p95_ms,p99_ms,mean_ms,cost_per_100k,meets_slo,not_measured_reason,", lines[0]);
        Assert.Equal(7, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("c5.large + eia2.medium,host+accelerator,c5.large,eia2.medium,\"cpu, remote agent on loopback\",0.205,", StringComparison.Ordinal));
        if (!cudaAgent)
        {
            Assert.Contains(lines, l => l.StartsWith("g4dn.xlarge,standalone gpu,,,,0.526,,,,,,,,no healthy cuda agent of instance type g4dn.xlarge,", StringComparison.Ordinal));
        }

        using SKBitmap? bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        Assert.Equal(900, bitmap.Width);
        Assert.Equal(500, bitmap.Height);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task ComparePreparesModelAndInputsAtTheGivenPrecisionOnTheAgentAndInProcess()
    {
        // float64 inputs meet demo_mlp's float32 weights only once model and inputs are cast alike: at bf16 the
        // agent and the in-process run both do, at fp32 the same inputs are refused.
        string[] args = ["compare", Fixtures.Path("demo_mlp.pt"), "--host-types", "c5.large", "--slice-types", "eia2.medium",
            "--standalone", "c5.xlarge", "--input-shape", "1,16", "--dtype", "float64", "-n", $"{Runs}"];

        using JsonDocument json = await JsonAsync([.. args, "--precision", "bf16", "--json"]);

        Assert.Equal("bf16", json.RootElement.GetProperty("precision").GetString());
        JsonElement[] rows = [.. json.RootElement.GetProperty("rows").EnumerateArray()];
        Assert.Equal(["c5.large + eia2.medium", "c5.xlarge"], rows.Select(r => r.GetProperty("instance").GetString()).Order());
        Assert.All(rows, r => Assert.Equal(Runs, r.GetProperty("latency_ms").GetProperty("count").GetInt32()));

        int before = await AttachedCountAsync();
        CliProcess.Result fp32 = await CliInProcess.RunAsync([.. args, "--precision", "fp32", "--broker", _cluster.BrokerUrl]);
        Assert.Equal(1, fp32.ExitCode);
        Assert.StartsWith("accel: error: ", fp32.StdErr);
        Assert.Equal(before, await AttachedCountAsync());
    }

    [Fact]
    public async Task WhenNothingMeetsTheSloNoneIsChosenAndTheSvgHasTheStatedSize()
    {
        string dir = Directory.CreateTempSubdirectory("accel-compare-").FullName;
        string svg = Path.Combine(dir, "chart.svg");

        CliProcess.Result result = await CliInProcess.RunAsync("compare", Fixtures.Path("demo_mlp.pt"),
            "--host-types", "c5.large", "--slice-types", "eia2.medium", "--standalone", "c5.xlarge",
            "--p90-slo", "0.000001", "--input-shape", "1,16", "--dtype", "float32", "-n", $"{Runs}",
            "--chart", svg, "--chart-size", "640x480", "--broker", _cluster.BrokerUrl);

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("no measured combination meets P90 < 0.000001 ms", result.StdOut);
        Assert.Contains("c5.large + eia2.medium", result.StdOut);
        Assert.Contains($"chart: {svg} (640x480)", result.StdOut);
        XElement root = XDocument.Load(svg).Root!;
        Assert.Equal("svg", root.Name.LocalName);
        Assert.Equal("640", root.Attribute("width")!.Value);
        Assert.Equal("480", root.Attribute("height")!.Value);
        Directory.Delete(dir, recursive: true);
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
        return JsonDocument.Parse(result.StdOut);
    }
}
