using System.Text.Json;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using SkiaSharp;
using Xunit;

namespace AccelBroker.Tests.Cli.LoadTesting;

/// <summary><c>accel loadtest</c>, run in this process with a short stages file, against a real broker and agent on loopback.</summary>
public sealed class LoadtestCliTests : IClassFixture<ClusterFixture>
{
    // 1 user for 1.5 s, then 2 users until 3 s.
    private const string TwoStages = """[{"duration": 1.5, "users": 1, "spawn_rate": 50}, {"duration": 3, "users": 2, "spawn_rate": 50}]""";
    private readonly TestCluster _cluster;

    public LoadtestCliTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task SeveralModelsGetRandomRequestsAndTheJsonHasEachStageTheSummaryCsvAndChartsAndTheModelsAreUnloaded()
    {
        (string host, Accelerator accelerator) = await AttachAsync();
        string dir = Directory.CreateTempSubdirectory("accel-loadtest-").FullName;
        string csv = Path.Combine(dir, "stages.csv");
        string png = Path.Combine(dir, "load.png");

        using JsonDocument json = await JsonAsync("loadtest", "--model", Fixtures.Path("demo_mlp.pt"), "--model", Fixtures.Path("identity.pt"),
            "--input-shape", "1,16", "--stages", StagesFile(TwoStages), "--host", host, "--ordinal", "0", "--p95-slo", "100000",
            "--json", "--csv", csv, "--chart", png, "--chart-size", "600x400");

        JsonElement root = json.RootElement;
        Assert.Equal(accelerator.Id, root.GetProperty("accelerator_id").GetString());
        Assert.False(root.GetProperty("interrupted").GetBoolean());
        JsonElement[] stages = [.. root.GetProperty("stages").EnumerateArray()];
        Assert.Equal([1, 2], stages.Select(s => s.GetProperty("stage").GetInt32()));
        Assert.Equal([1, 2], stages.Select(s => s.GetProperty("target_users").GetInt32()));
        Assert.Equal([1, 2], stages.Select(s => s.GetProperty("max_users").GetInt32()));
        Assert.Equal([1.5, 3], stages.Select(s => s.GetProperty("ends_at_s").GetDouble()));
        foreach (JsonElement stage in stages)
        {
            int requests = stage.GetProperty("requests").GetInt32();
            Assert.True(requests > 0 && requests == stage.GetProperty("successes").GetInt32(), stage.ToString());
            Assert.Empty(stage.GetProperty("failures").EnumerateObject());
            Assert.Equal(requests / 1.5, stage.GetProperty("requests_per_second").GetDouble(), 6);
            JsonElement latency = stage.GetProperty("latency_ms");
            double p50 = latency.GetProperty("p50_ms").GetDouble(), p95 = latency.GetProperty("p95_ms").GetDouble(), p99 = latency.GetProperty("p99_ms").GetDouble();
            Assert.True(0 < p50 && p50 <= p95 && p95 <= p99, latency.ToString());
        }

        JsonElement summary = root.GetProperty("summary");
        Assert.Equal(stages.Max(s => s.GetProperty("requests_per_second").GetDouble()), summary.GetProperty("max_requests_per_second_without_error").GetDouble());
        Assert.Equal(2, summary.GetProperty("max_users_before_first_failure").GetInt32());
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("first_failure").ValueKind);
        Assert.Equal(2, summary.GetProperty("max_users_before_p95_over_slo").GetInt32());

        // Both models loaded under this run's aliases, both chosen, every request counted against one of them.
        JsonElement[] models = [.. root.GetProperty("models").EnumerateArray()];
        Assert.Equal(["demo_mlp.pt", "identity.pt"], models.Select(m => m.GetProperty("file").GetString()));
        Assert.All(models, m => Assert.Matches("^loadtest-[0-9a-f]{8}-[01]$", m.GetProperty("alias").GetString()));
        Assert.All(models, m => Assert.True(m.GetProperty("requests").GetInt64() > 0, m.ToString()));
        Assert.Equal(stages.Sum(s => s.GetProperty("requests").GetInt64()), models.Sum(m => m.GetProperty("requests").GetInt64()));
        Assert.Equal(models.Select(m => m.GetProperty("alias").GetString()).Order(), root.GetProperty("unloaded_aliases").EnumerateArray().Select(a => a.GetString()).Order());
        Assert.Empty((await ListModelsAsync(accelerator)).Models);

        string[] rows = await File.ReadAllLinesAsync(csv);
        Assert.Equal(3, rows.Length);
        Assert.StartsWith("stage,ends_at_s,target_users,", rows[0]);
        Assert.StartsWith("1,1.5,1,50,1,1,1.5,true,", rows[1]);
        foreach (string suffix in new[] { "latency", "throughput", "requests" })
        {
            using SKBitmap? chart = SKBitmap.Decode(Path.Combine(dir, $"load-{suffix}.png"));
            Assert.True(chart is { Width: 600, Height: 400 }, suffix);
        }
    }

    [Fact]
    public async Task CopiesOfOneModelAreLoadedAsDistinctAliasesAndEachIsUsed()
    {
        (string host, Accelerator accelerator) = await AttachAsync();

        using JsonDocument json = await JsonAsync("loadtest", "--model", Fixtures.Path("demo_mlp.pt"), "--copies", "3", "--seed", "7",
            "--input", Fixtures.Path("demo_mlp.input0.npy"), "--stages", StagesFile(TwoStages), "--host", host, "--ordinal", "0", "--think-time", "1-3", "--json");

        JsonElement root = json.RootElement;
        JsonElement[] models = [.. root.GetProperty("models").EnumerateArray()];
        Assert.Equal(3, models.Length);
        Assert.All(models, m => Assert.Equal("demo_mlp.pt", m.GetProperty("file").GetString()));
        Assert.Equal(3, models.Select(m => m.GetProperty("model_id").GetString()).Distinct().Count());
        Assert.All(models, m => Assert.True(m.GetProperty("requests").GetInt64() > 0, m.ToString()));
        Assert.Equal(7, root.GetProperty("seed").GetInt32());
        Assert.Equal(1, root.GetProperty("think_time_ms").GetProperty("min_ms").GetDouble());
        Assert.Equal(2, root.GetProperty("stages").GetArrayLength());
        Assert.Empty((await ListModelsAsync(accelerator)).Models);
    }

    [Fact]
    public async Task TheTableGivesEachStageAndTheSummary()
    {
        (string host, _) = await AttachAsync();

        CliProcess.Result result = await CliInProcess.RunAsync("loadtest", "--model", Fixtures.Path("demo_mlp.pt"), "--input-shape", "1,16",
            "--stages", StagesFile(TwoStages), "--host", host, "--ordinal", "0", "--broker", _cluster.BrokerUrl);

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("max requests/s without error: ", result.StdOut);
        Assert.Contains("max concurrent users before the first failure: no failure, up to 2 users", result.StdOut);
        Assert.Contains("unloaded the 1 models it loaded", result.StdOut);
        Assert.Contains("P95 ms", result.StdOut);
    }

    [Theory]
    [InlineData("[]", "has no stages")]
    [InlineData("""[{"duration": 2, "users": 1, "spawn_rate": 1}, {"duration": 1, "users": 2, "spawn_rate": 1}]""", "stage 2: durations must increase")]
    [InlineData("""[{"duration": 2, "users": -3, "spawn_rate": 1}]""", "stage 1: users must be a whole number from 0 to 10000, got -3")]
    [InlineData("""[{"duration": 2, "users": 3, "spawn_rate": 0}]""", "stage 1: spawn_rate must be more than 0 users per second")]
    public async Task ABadStagesFileIsOneLineAndExitCode2BeforeAnythingIsLoaded(string stages, string expected)
    {
        string file = StagesFile(stages);

        CliProcess.Result result = await CliInProcess.RunAsync("loadtest", "--model", Fixtures.Path("demo_mlp.pt"), "--input-shape", "1,16",
            "--stages", file, "--host", "nobody", "--ordinal", "0", "--broker", _cluster.BrokerUrl);

        Assert.Equal(2, result.ExitCode);
        string line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"accel: error: --stages file '{file}'", line);
        Assert.Contains(expected, line);
    }

    [Theory]
    [InlineData("--think-time", "soon", "--think-time must be milliseconds")]
    [InlineData("--copies", "0", "--copies must be between 1 and 1000")]
    [InlineData("--chart", "load.jpg", "--chart must end in .png or .svg, got ")]
    [InlineData("--p95-slo", "-1", "--p95-slo must be a positive number of milliseconds, got -1")]
    public async Task ABadOptionIsOneLineAndExitCode2(string option, string value, string expected)
    {
        CliProcess.Result result = await CliInProcess.RunAsync("loadtest", "--model", Fixtures.Path("demo_mlp.pt"), "--input-shape", "1,16",
            option, value, "--host", "nobody", "--ordinal", "0", "--broker", _cluster.BrokerUrl);

        Assert.Equal(2, result.ExitCode);
        string line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line);
    }

    private async Task<(string Host, Accelerator Accelerator)> AttachAsync()
    {
        string host = "loadtest-" + Guid.NewGuid().ToString("N")[..8];
        AttachResponse attached = await _cluster.BrokerClient.AttachAsync(new AttachRequest { Host = host, SliceType = "eia2.medium" }, deadline: TestCluster.Deadline());
        return (host, attached.Accelerator);
    }

    private async Task<ListModelsResponse> ListModelsAsync(Accelerator accelerator) =>
        await _cluster.AgentClient.ListModelsAsync(new ListModelsRequest { SliceId = accelerator.Id }, deadline: TestCluster.Deadline());

    private static string StagesFile(string json)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("accel-stages-").FullName, "stages.json");
        File.WriteAllText(path, json);
        return path;
    }

    private async Task<JsonDocument> JsonAsync(params string[] args)
    {
        CliProcess.Result result = await CliInProcess.RunAsync([.. args, "--broker", _cluster.BrokerUrl]);
        Assert.True(result.ExitCode == 0, $"accel {string.Join(' ', args)} failed: {result.StdErr}");
        return JsonDocument.Parse(result.StdOut);
    }
}
