using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Cli;

/// <summary>
/// <c>accel models</c>, <c>accel max-models</c> and the memory columns of <c>accel describe-accelerators</c>, run in
/// this process (one table as a process) against a real broker and agent on loopback, on 16 MiB test.tiny slices (threshold 90 %). Loads without
/// a warm-up are charged exactly their weights (demo_mlp 6432 bytes, token_ids 162704), so those counts are exact;
/// warm-up charges are a measured, process-wide peak (at least the warm-up's inputs and outputs), so only their
/// invariants are asserted.
/// </summary>
public sealed class ModelsCliTests : IClassFixture<ClusterFixture>
{
    private const long DemoMlpBytes = 6432;
    private const long TokenIdsBytes = 162_704;
    private const long TinyBudget = 16L * 1024 * 1024;
    private const long TinyThreshold = (long)(TinyBudget * 0.9);

    // Heartbeats come every 2 s; a loaded 2-core machine may stretch that.
    private static readonly TimeSpan HeartbeatWait = TimeSpan.FromSeconds(15);

    private readonly TestCluster _cluster;
    private readonly ITestOutputHelper _output;

    public ModelsCliTests(ClusterFixture fixture, ITestOutputHelper output)
    {
        _cluster = fixture.Cluster;
        _output = output;
    }

    [Fact]
    public async Task DescribeAcceleratorsShowsTheMemoryChargedOnceAHeartbeatCarriedIt()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await using AcceleratorSession session = await OpenAsync(host);
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        Assert.Equal(DemoMlpBytes, model.ChargedBytes);

        JsonElement device = default;
        var waited = Stopwatch.StartNew();
        for (int attempt = 0; attempt < 60 && waited.Elapsed < HeartbeatWait; attempt++)
        {
            using JsonDocument described = await JsonAsync("describe-accelerators", "--host", host, "--json");
            device = described.RootElement.GetProperty("devices")[0].Clone();
            if (device.GetProperty("memory_charged_bytes").GetInt64() != 0)
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.Equal(DemoMlpBytes, device.GetProperty("memory_charged_bytes").GetInt64());
        Assert.Equal(1, device.GetProperty("models_resident").GetInt32());
        Assert.Equal(16, device.GetProperty("memory_mib").GetInt64());

        CliProcess.Result table = await CliInProcess.RunAsync("describe-accelerators", "--host", host, "--broker", _cluster.BrokerUrl);
        Assert.True(table.ExitCode == 0, table.StdErr);
        _output.WriteLine(table.StdOut);
        Assert.Contains("charged to resident models / the slice's budget", table.StdOut);
    }

    [Fact]
    public async Task ModelsListsEachModelWithItsOptionsChargeAndUseAndTheSlicesFigures()
    {
        string host = NewHost();
        Accelerator attached = await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await using AcceleratorSession session = await OpenAsync(host);
        RemoteModel mlp = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        RemoteModel tokens = await session.LoadModelAsync(Fixtures.Path("token_ids.pt"), new ModelLoadOptions
        {
            Alias = "tokens-a",
            Batching = new BatchingOptions(4, TimeSpan.FromMilliseconds(0.5)),
        });
        await session.RunAsync(mlp, [Fixtures.Npy("demo_mlp.input0.npy")]);
        await session.RunAsync(mlp, [Fixtures.Npy("demo_mlp.input0.npy")]);

        using JsonDocument json = await JsonAsync("models", "--host", host, "--ordinal", "0", "--json");

        JsonElement r = json.RootElement;
        Assert.Equal(host, r.GetProperty("host").GetString());
        Assert.Equal(attached.Id, r.GetProperty("id").GetString());
        Assert.Equal("cpu", r.GetProperty("device").GetString());
        Assert.Equal(TinyBudget, r.GetProperty("budget_bytes").GetInt64());
        Assert.Equal(TinyThreshold, r.GetProperty("threshold_bytes").GetInt64());
        Assert.Equal(DemoMlpBytes + TokenIdsBytes, r.GetProperty("charged_bytes").GetInt64());
        Assert.Equal(2, r.GetProperty("models_resident").GetInt32());
        Assert.Equal(2, r.GetProperty("loads").GetInt64());
        Assert.Equal(0, r.GetProperty("evictions").GetInt64());
        Dictionary<string, JsonElement> models = r.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("model_id").GetString()!);
        Assert.Equal([mlp.ModelId, tokens.ModelId], models.Keys.Order(StringComparer.Ordinal));

        JsonElement m = models[mlp.ModelId];
        Assert.Equal(("", mlp.Sha256, "fp32", true, "resident"), (m.GetProperty("alias").GetString(), m.GetProperty("sha256").GetString(), m.GetProperty("precision").GetString(), m.GetProperty("resident").GetBoolean(), m.GetProperty("state").GetString()));
        Assert.Equal((DemoMlpBytes, 1L, 2L), (m.GetProperty("charged_bytes").GetInt64(), m.GetProperty("load_count").GetInt64(), m.GetProperty("runs").GetInt64()));
        Assert.Equal(JsonValueKind.Null, m.GetProperty("batching").ValueKind);
        DateTimeOffset lastUsed = DateTimeOffset.Parse(m.GetProperty("last_used").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(lastUsed, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

        JsonElement t = models[tokens.ModelId];
        Assert.Equal(("tokens-a", true, TokenIdsBytes, 1L, 0L), (t.GetProperty("alias").GetString(), t.GetProperty("resident").GetBoolean(), t.GetProperty("charged_bytes").GetInt64(), t.GetProperty("load_count").GetInt64(), t.GetProperty("runs").GetInt64()));
        Assert.Equal((4, 500L), (t.GetProperty("batching").GetProperty("max_batch_size").GetInt32(), t.GetProperty("batching").GetProperty("max_delay_us").GetInt64()));

        CliProcess.Result table = await CliInProcess.RunAsync("models", "--host", host, "--ordinal", "0", "--broker", _cluster.BrokerUrl);
        Assert.True(table.ExitCode == 0, table.StdErr);
        _output.WriteLine(table.StdOut);
        Assert.Contains("2 of 2 model(s) resident; 2 load(s) and 0 eviction(s) since attach", table.StdOut);
    }

    [Fact]
    public async Task AnEvictedModelIsListedAsEvictedAndResidentAgainAfterItsNextRun()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await using AcceleratorSession session = await OpenAsync(host);
        RemoteModel mlp = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));

        // Fill the slice with copies until one makes room: the idle demo_mlp is the least recently used.
        RemoteModel? evicting = null;
        for (int i = 0; i < 200 && evicting is null; i++)
        {
            RemoteModel copy = await session.LoadModelAsync(Fixtures.Path("token_ids.pt"), new ModelLoadOptions { Alias = $"fill-{i}" });
            evicting = copy.EvictedModelIds.Count > 0 ? copy : null;
        }

        Assert.NotNull(evicting);
        Assert.Equal(mlp.ModelId, evicting.EvictedModelIds[0]);
        using (JsonDocument before = await JsonAsync("models", "--host", host, "--ordinal", "0", "--json"))
        {
            JsonElement evicted = Model(before, mlp.ModelId);
            Assert.Equal((false, "evicted", DemoMlpBytes, 1L), (evicted.GetProperty("resident").GetBoolean(), evicted.GetProperty("state").GetString(), evicted.GetProperty("charged_bytes").GetInt64(), evicted.GetProperty("load_count").GetInt64()));
            Assert.Equal(evicting.EvictedModelIds.Count, before.RootElement.GetProperty("evictions").GetInt64());
        }

        await session.RunAsync(mlp, [Fixtures.Npy("demo_mlp.input0.npy")]);

        using JsonDocument after = await JsonAsync("models", "--host", host, "--ordinal", "0", "--json");
        JsonElement reloaded = Model(after, mlp.ModelId);
        Assert.Equal((true, 2L, 1L), (reloaded.GetProperty("resident").GetBoolean(), reloaded.GetProperty("load_count").GetInt64(), reloaded.GetProperty("runs").GetInt64()));
        JsonElement r = after.RootElement;
        JsonElement[] all = [.. r.GetProperty("models").EnumerateArray()];
        long residentBytes = all.Where(x => x.GetProperty("resident").GetBoolean()).Sum(x => x.GetProperty("charged_bytes").GetInt64());
        Assert.Equal(residentBytes, r.GetProperty("charged_bytes").GetInt64());
        Assert.True(residentBytes <= TinyThreshold, $"{residentBytes} bytes resident past the threshold");
        Assert.Equal(all.Count(x => x.GetProperty("resident").GetBoolean()), r.GetProperty("models_resident").GetInt32());
        Assert.Equal(all.Length + 1, r.GetProperty("loads").GetInt64());
        Assert.Equal(all.Count(x => !x.GetProperty("resident").GetBoolean()) + 1, r.GetProperty("evictions").GetInt64());
    }

    [Fact]
    public async Task ModelsOfAnUnknownHostOrOrdinalIsOneLineOnStderr()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);

        CliProcess.Result unknownHost = await CliInProcess.RunAsync("models", "--host", NewHost(), "--ordinal", "0", "--broker", _cluster.BrokerUrl);
        CliProcess.Result unknownOrdinal = await CliInProcess.RunAsync("models", "--host", host, "--ordinal", "3", "--json", "--broker", _cluster.BrokerUrl);

        Assert.Equal(1, unknownHost.ExitCode);
        Assert.Matches("^accel: error: NotFound: host '.+' has no accelerators attached$", Assert.Single(Lines(unknownHost.StdErr)));
        Assert.Equal(1, unknownOrdinal.ExitCode);
        Assert.Equal($"accel: error: NotFound: host '{host}' has no accelerator at ordinal 3; attached ordinals: 0", Assert.Single(Lines(unknownOrdinal.StdErr)));
        Assert.Empty(unknownOrdinal.StdOut);
    }

    [Fact]
    public async Task MaxModelsFillsUpToTheThresholdWithoutEvictingAndUnloadsEveryCopy()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await using AcceleratorSession session = await OpenAsync(host);
        RemoteModel mine = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));

        using JsonDocument json = await JsonAsync("max-models", Fixtures.Path("token_ids.pt"), "--host", host, "--ordinal", "0", "--max-copies", "500", "--json");

        JsonElement r = json.RootElement;
        // Weights only: every copy is charged the same, so the count is exact.
        int copies = r.GetProperty("copies").GetInt32();
        Assert.Equal((int)((TinyThreshold - DemoMlpBytes) / TokenIdsBytes), copies);
        JsonElement perCopy = r.GetProperty("bytes_per_copy");
        Assert.Equal((TokenIdsBytes, TokenIdsBytes, TokenIdsBytes), (perCopy.GetProperty("mean").GetInt64(), perCopy.GetProperty("min").GetInt64(), perCopy.GetProperty("max").GetInt64()));
        Assert.Equal((TinyThreshold, TinyBudget), (r.GetProperty("threshold_bytes").GetInt64(), r.GetProperty("budget_bytes").GetInt64()));
        Assert.Equal((DemoMlpBytes, 1), (r.GetProperty("other_models_bytes").GetInt64(), r.GetProperty("other_models").GetInt32()));
        Assert.Equal(("threshold", "cpu", "fp32"), (r.GetProperty("stopped_because").GetString(), r.GetProperty("device").GetString(), r.GetProperty("precision").GetString()));
        Assert.Equal(DemoMlpBytes + (copies * TokenIdsBytes), r.GetProperty("charged_at_stop_bytes").GetInt64());
        Assert.Empty(r.GetProperty("evicted_model_ids").EnumerateArray());
        Assert.False(r.GetProperty("kept").GetBoolean());
        Assert.Equal(copies, r.GetProperty("loaded_model_ids").GetArrayLength());
        Assert.Equal(Strings(r.GetProperty("loaded_model_ids")), Strings(r.GetProperty("unloaded_model_ids")));

        AssertOnlyTheUsersModelIsLeft(await ListAsync(host), mine);
    }

    [Fact]
    public async Task MaxModelsCountsTheWarmUpsPeakAndNeverPassesTheThreshold()
    {
        // 2.5 MiB of input: the warm-up (input and its clone) makes a copy cost about 5 MiB, so one or two fit.
        const long InputBytes = 655_360 * 4;
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await using AcceleratorSession session = await OpenAsync(host);
        RemoteModel mine = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));

        using JsonDocument json = await JsonAsync("max-models", Fixtures.Path("identity.pt"), "--host", host, "--ordinal", "0",
            "--input-shape", "1,655360", "--dtype", "float32", "--max-copies", "12", "--json");

        JsonElement r = json.RootElement;
        _output.WriteLine(r.ToString());
        int copies = r.GetProperty("copies").GetInt32();
        long copiesBytes = r.GetProperty("copies_bytes").GetInt64();
        long other = r.GetProperty("other_models_bytes").GetInt64();
        JsonElement perCopy = r.GetProperty("bytes_per_copy");
        long min = perCopy.GetProperty("min").GetInt64(), max = perCopy.GetProperty("max").GetInt64();
        Assert.Equal(DemoMlpBytes, other);
        Assert.Equal("threshold", r.GetProperty("stopped_because").GetString());
        Assert.Equal([1L, 655_360L], r.GetProperty("warmup_inputs")[0].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        // The warm-up's activations are charged: at least its input and the clone it returns, so three never fit.
        Assert.True(min >= 2 * InputBytes, $"smallest copy {min} bytes, less than the warm-up's input and output");
        Assert.InRange(copies, 1, 2);
        // Never past the threshold, and stopped only when the largest copy so far would pass it.
        Assert.True(other + copiesBytes <= TinyThreshold, $"{other} + {copiesBytes} bytes past the threshold {TinyThreshold}");
        Assert.Equal(max, r.GetProperty("next_copy_bytes").GetInt64());
        Assert.True(r.GetProperty("charged_at_stop_bytes").GetInt64() + max > TinyThreshold);
        Assert.Empty(r.GetProperty("evicted_model_ids").EnumerateArray());
        Assert.Equal(copies, r.GetProperty("unloaded_model_ids").GetArrayLength());

        AssertOnlyTheUsersModelIsLeft(await ListAsync(host), mine);
    }

    [Fact]
    public async Task MaxModelsKeepsItsCopiesWhenAskedAndPrintsATableWithoutATerminal()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);

        using JsonDocument kept = await JsonAsync("max-models", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0", "--max-copies", "2", "--keep", "--json");
        CliProcess.Result table = await CliProcess.RunAsync("max-models", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0", "--max-copies", "3", "--broker", _cluster.BrokerUrl);

        JsonElement r = kept.RootElement;
        Assert.Equal((2, "max_copies", true), (r.GetProperty("copies").GetInt32(), r.GetProperty("stopped_because").GetString(), r.GetProperty("kept").GetBoolean()));
        Assert.Empty(r.GetProperty("unloaded_model_ids").EnumerateArray());
        Assert.True(table.ExitCode == 0, table.StdErr);
        _output.WriteLine(table.StdOut);
        Assert.Contains("copies that fit below the threshold: 3", table.StdOut);
        Assert.Contains("stopped: --max-copies reached", table.StdOut);
        Assert.Contains("unloaded 3 of 3 copies", table.StdOut);
        Assert.DoesNotContain("\u001b[", table.StdOut); // no progress bar when redirected

        // The kept copies are there, under the probe's aliases, and only they.
        ListModelsResponse listed = await ListAsync(host);
        Assert.Equal(Strings(r.GetProperty("loaded_model_ids")).Order(StringComparer.Ordinal), listed.Models.Select(m => m.ModelId));
        Assert.All(listed.Models, m => Assert.Matches("^max-models-[0-9a-f]{8}-[01]$", m.Alias));
    }

    [Fact]
    public async Task MaxModelsRefusesBadInputWithOneLineOnStderr()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);
        string missing = Path.Combine(Path.GetTempPath(), $"accel-missing-{Guid.NewGuid():N}.pt");

        CliProcess.Result noFile = await CliInProcess.RunAsync("max-models", missing, "--host", host, "--ordinal", "0", "--broker", _cluster.BrokerUrl);
        CliProcess.Result bothInputs = await CliInProcess.RunAsync("max-models", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0",
            "--input", Fixtures.Path("demo_mlp.input0.npy"), "--input-shape", "1,16", "--broker", _cluster.BrokerUrl);
        CliProcess.Result zeroCopies = await CliInProcess.RunAsync("max-models", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "0", "--max-copies", "0", "--broker", _cluster.BrokerUrl);
        CliProcess.Result noOrdinal = await CliInProcess.RunAsync("max-models", Fixtures.Path("demo_mlp.pt"), "--host", host, "--ordinal", "2", "--broker", _cluster.BrokerUrl);

        Assert.Equal($"accel: error: model file {missing} does not exist", Assert.Single(Lines(noFile.StdErr)));
        Assert.Contains("give either --input FILE.npy (repeatable) or --input-shape with --dtype, not both", Assert.Single(Lines(bothInputs.StdErr)));
        Assert.Equal("accel: error: --max-copies must be between 1 and 100000, got 0", Assert.Single(Lines(zeroCopies.StdErr)));
        Assert.Equal($"accel: error: NotFound: host '{host}' has no accelerator at ordinal 2; attached ordinals: 0", Assert.Single(Lines(noOrdinal.StdErr)));
        Assert.All(new[] { noFile, bothInputs, zeroCopies, noOrdinal }, result => Assert.Equal(1, result.ExitCode));
        Assert.Empty((await ListAsync(host)).Models);
    }

    private static void AssertOnlyTheUsersModelIsLeft(ListModelsResponse listed, RemoteModel mine)
    {
        SliceModel left = Assert.Single(listed.Models);
        Assert.Equal(mine.ModelId, left.ModelId);
        Assert.True(left.Resident, "the probe evicted the user's model");
        Assert.Equal(1, left.LoadCount);
        Assert.Equal(0, listed.Evictions);
        Assert.Equal(DemoMlpBytes, listed.ChargedBytes);
    }

    private static JsonElement Model(JsonDocument models, string modelId) =>
        models.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model_id").GetString() == modelId);

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string NewHost() => "models-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<ListModelsResponse> ListAsync(string host)
    {
        Accelerator accelerator = (await _cluster.BrokerClient.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = host, Ordinal = 0 }, deadline: TestCluster.Deadline())).Accelerator;
        return await _cluster.AgentClient.ListModelsAsync(new ListModelsRequest { SliceId = accelerator.Id }, deadline: TestCluster.Deadline());
    }

    private Task<AcceleratorSession> OpenAsync(string host) =>
        AcceleratorSession.OpenAsync(new AcceleratorSessionOptions { Broker = _cluster.BrokerUrl, Host = host, Ordinal = 0, UsageReportInterval = TimeSpan.Zero, HostCredential = _cluster.AdminKey });

    private async Task<JsonDocument> JsonAsync(params string[] args)
    {
        CliProcess.Result result = await CliInProcess.RunAsync([.. args, "--broker", _cluster.BrokerUrl]);
        Assert.True(result.ExitCode == 0, $"accel {string.Join(' ', args)} failed: {result.StdErr}");
        return JsonDocument.Parse(result.StdOut);
    }
}
