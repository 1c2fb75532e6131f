using System.Text.Json;
using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using Xunit;

namespace AccelBroker.Tests.Cli;

/// <summary>
/// The accel CLI against a real broker and agent on loopback: in this process on a recording console, and as a
/// process where the executable itself is what is tested (exit codes and stderr of a failing verb, help, demo).
/// </summary>
public sealed class AccelCliTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public AccelCliTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task SliceTypesJsonListsTheCatalogue()
    {
        CliProcess.Result result = await CliInProcess.RunAsync("slice-types", "--json", "--broker", _cluster.BrokerUrl);

        Assert.Equal(0, result.ExitCode);
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        JsonElement medium = json.RootElement.GetProperty("slice_types").EnumerateArray().First(t => t.GetProperty("name").GetString() == "eia2.medium");
        Assert.Equal(2048, medium.GetProperty("memory_mib").GetInt64());
        Assert.Equal(0.125, medium.GetProperty("compute_share").GetDouble());
        Assert.Equal(0.12, medium.GetProperty("price_per_hour").GetDouble());
    }

    [Fact]
    public async Task PricesJsonShowsTheBrokersPricesWithAFileOnTop()
    {
        string file = Path.Combine(Path.GetTempPath(), $"accel-prices-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """{"instance_types":[{"name":"c5.large","price_per_hour":0.1,"kind":"cpu","vcpus":2}]}""");
        try
        {
            using JsonDocument served = await JsonAsync("prices", "--json");
            using JsonDocument overridden = await JsonAsync("prices", "--prices", file, "--json");

            JsonElement c5 = served.RootElement.GetProperty("instance_types").EnumerateArray().First(t => t.GetProperty("name").GetString() == "c5.large");
            Assert.Equal(0.085, c5.GetProperty("price_per_hour").GetDouble());
            Assert.Equal("cpu", c5.GetProperty("kind").GetString());
            JsonElement g4dn = served.RootElement.GetProperty("instance_types").EnumerateArray().First(t => t.GetProperty("name").GetString() == "g4dn.xlarge");
            Assert.Equal("gpu", g4dn.GetProperty("kind").GetString());
            Assert.Contains(served.RootElement.GetProperty("slice_types").EnumerateArray(), t => t.GetProperty("name").GetString() == TestCluster.TinySlice);
            Assert.Equal(0.1, overridden.RootElement.GetProperty("instance_types").EnumerateArray().First(t => t.GetProperty("name").GetString() == "c5.large").GetProperty("price_per_hour").GetDouble());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ABadPricesFileIsOneLineOnStderr()
    {
        string file = Path.Combine(Path.GetTempPath(), $"accel-prices-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, "{");
        try
        {
            CliProcess.Result result = await CliInProcess.RunAsync("prices", "--prices", file, "--broker", _cluster.BrokerUrl);

            Assert.Equal(1, result.ExitCode);
            string line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"accel: error: prices file '{file}' is not valid JSON", line);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AnUnknownHostTypeIsRefusedListingTheKnownOnes()
    {
        CliProcess.Result result = await CliInProcess.RunAsync("attach", "--host", NewHost(), "--type", TestCluster.TinySlice, "--host-type", "c9.huge", "--broker", _cluster.BrokerUrl);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("unknown instance type 'c9.huge'; known: c5.large, m5.large", result.StdErr);
    }

    [Fact]
    public async Task AttachDescribeAndDetachUseLowestFreeOrdinals()
    {
        string host = NewHost();
        using JsonDocument first = await JsonAsync("attach", "--host", host, "--type", TestCluster.TinySlice, "--host-type", "c5.large", "--json");
        using JsonDocument second = await JsonAsync("attach", "--host", host, "--type", TestCluster.TinySlice, "--json");
        Assert.Equal(0, first.RootElement.GetProperty("ordinal").GetInt32());
        Assert.Equal(1, second.RootElement.GetProperty("ordinal").GetInt32());
        Assert.StartsWith("acc-", first.RootElement.GetProperty("id").GetString());

        using JsonDocument described = await JsonAsync("describe-accelerators", "--host", host, "--json");
        JsonElement root = described.RootElement;
        Assert.Equal(2, root.GetProperty("attached_accelerators").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("client_version").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("time").GetString()));
        JsonElement device = root.GetProperty("devices")[0];
        Assert.Equal(0, device.GetProperty("ordinal").GetInt32());
        Assert.Equal(TestCluster.TinySlice, device.GetProperty("type").GetString());
        Assert.Equal(first.RootElement.GetProperty("id").GetString(), device.GetProperty("id").GetString());
        Assert.Equal("healthy", device.GetProperty("status").GetString());
        Assert.Equal("", device.GetProperty("state_reason").GetString());
        Assert.Contains(device.GetProperty("state").GetString(), new[] { "", "ready" });
        Assert.True(device.TryGetProperty("epoch", out _));
        Assert.Equal("cpu", device.GetProperty("device").GetString());
        Assert.Equal(16, device.GetProperty("memory_mib").GetInt64());
        Assert.StartsWith("agent-", device.GetProperty("agent").GetString());

        CliProcess.Result detached = await CliInProcess.RunAsync("detach", "--host", host, "--ordinal", "0", "--broker", _cluster.BrokerUrl);
        Assert.Equal(0, detached.ExitCode);
        using JsonDocument third = await JsonAsync("attach", "--host", host, "--type", TestCluster.TinySlice, "--json");
        Assert.Equal(0, third.RootElement.GetProperty("ordinal").GetInt32());
    }

    [Fact]
    public async Task DescribeAgentsShowsTheCpuAgentAndItsSlices()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);

        using JsonDocument json = await JsonAsync("describe-agents", "--json");

        JsonElement agent = json.RootElement.GetProperty("agents").EnumerateArray().Single();
        Assert.Equal("healthy", agent.GetProperty("status").GetString());
        Assert.Equal("", agent.GetProperty("health_reason").GetString());
        Assert.False(agent.GetProperty("cordoned").GetBoolean());
        Assert.Equal("cpu", agent.GetProperty("device").GetString());
        Assert.Equal(_cluster.AgentUrl.TrimEnd('/'), agent.GetProperty("address").GetString()!.TrimEnd('/'));
        Assert.Contains(agent.GetProperty("slices").EnumerateArray(), s => s.GetProperty("host").GetString() == host);
    }

    [Fact]
    public async Task RunWritesOutputsThatEqualInProcessTorchSharp()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);
        string outputDir = Directory.CreateTempSubdirectory("accel-run-").FullName;
        try
        {
            CliProcess.Result result = await CliInProcess.RunAsync(
                "run", Fixtures.Path("two_in_tuple_out.pt"), "--host", host, "--ordinal", "0",
                "--input", Fixtures.Path("two_in_tuple_out.input0.npy"), "--input", Fixtures.Path("two_in_tuple_out.input1.npy"),
                "--output-dir", outputDir, "--broker", _cluster.BrokerUrl);

            Assert.True(result.ExitCode == 0, result.StdErr);
            Tensor[] expected = LocalTorch.Run(Fixtures.Path("two_in_tuple_out.pt"), null, Fixtures.Npy("two_in_tuple_out.input0.npy"), Fixtures.Npy("two_in_tuple_out.input1.npy"));
            Assert.Equal(2, Directory.GetFiles(outputDir, "output_*.npy").Length);
            for (int i = 0; i < expected.Length; i++)
            {
                Tensor written = Npy.Read(Path.Combine(outputDir, $"output_{i}.npy"));
                Assert.Equal(expected[i].Shape, written.Shape);
                Assert.True(expected[i].Data.Span.SequenceEqual(written.Data.Span));
            }
        }
        finally
        {
            Directory.Delete(outputDir, recursive: true);
        }
    }

    [Fact]
    public async Task AnUnknownSliceTypeIsOneLineOnStderrAndExitOne()
    {
        CliProcess.Result result = await CliProcess.RunAsync("attach", "--host", "h", "--type", "eia9.huge", "--broker", _cluster.BrokerUrl);

        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("InvalidArgument", line);
        Assert.Contains("known: eia2.medium, eia2.large, eia2.xlarge", line);
    }

    [Fact]
    public async Task DetachingAMissingOrdinalIsNotFound()
    {
        CliProcess.Result result = await CliInProcess.RunAsync("detach", "--host", NewHost(), "--ordinal", "3", "--broker", _cluster.BrokerUrl);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("NotFound", result.StdErr);
    }

    [Fact]
    public async Task ABadModelFileIsReportedWithTorchScriptsReason()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);

        CliProcess.Result result = await CliInProcess.RunAsync("run", Fixtures.Path("demo_mlp.input0.npy"), "--host", host, "--ordinal", "0", "--output-dir", Path.GetTempPath(), "--broker", _cluster.BrokerUrl);

        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("InvalidArgument: not a loadable TorchScript model: PytorchStreamReader failed", line);
    }

    [Fact]
    public async Task WithoutABrokerTheCliSaysHowToGiveOne()
    {
        CliProcess.Result result = await CliProcess.RunAsync("describe-agents");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("ACCEL_BROKER", result.StdErr);
    }

    [Fact]
    public async Task AnUnreachableBrokerIsUnavailable()
    {
        CliProcess.Result result = await CliInProcess.RunAsync("describe-agents", "--broker", "http://127.0.0.1:1");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Unavailable", result.StdErr);
    }

    [Fact]
    public async Task DemoRunsTheBundledModelOnItsOwnLoopbackClusterAndReportsTheDevice()
    {
        CliProcess.Result result = await CliProcess.RunAsync("demo", "-n", "50", "--json");

        Assert.True(result.ExitCode == 0, result.StdErr);
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        Assert.Equal("cpu", json.RootElement.GetProperty("device").GetString());
        Assert.Equal(49, json.RootElement.GetProperty("inferences").GetInt32());
        JsonElement latency = json.RootElement.GetProperty("latency_ms");
        double p50 = latency.GetProperty("p50").GetDouble();
        Assert.True(p50 > 0 && p50 <= latency.GetProperty("p90").GetDouble() && latency.GetProperty("p90").GetDouble() <= latency.GetProperty("p95").GetDouble());
    }

    [Theory]
    [InlineData("slice-types")]
    [InlineData("prices")]
    [InlineData("detach", "--host", "nobody-here", "--ordinal", "3")]
    public async Task AVerbPrintsTheSameInThisProcessAsAsAProcess(params string[] args)
    {
        CliProcess.Result process = await CliProcess.RunAsync([.. args, "--broker", _cluster.BrokerUrl]);
        CliProcess.Result inProcess = await CliInProcess.RunAsync([.. args, "--broker", _cluster.BrokerUrl]);

        Assert.NotEqual("", process.StdOut + process.StdErr);
        Assert.Equal(process, inProcess);
    }

    [Fact]
    public async Task HelpListsEveryVerbAndExitsZero()
    {
        CliProcess.Result result = await CliProcess.RunAsync("--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StdErr);
        Assert.Contains("accel: attach, describe and use AccelBroker accelerators.", result.StdOut);
        string[] verbs = ["slice-types", "prices", "attach", "detach", "allow-models", "describe-accelerators", "describe-agents", "usage", "models", "max-models", "run", "demo", "bench", "compare", "certs"];
        foreach (string verb in verbs)
        {
            Assert.Matches($@"(?m)^\s+{System.Text.RegularExpressions.Regex.Escape(verb)}\s", result.StdOut);
        }
    }

    private static string NewHost() => "cli-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<JsonDocument> JsonAsync(params string[] args)
    {
        CliProcess.Result result = await CliInProcess.RunAsync([.. args, "--broker", _cluster.BrokerUrl]);
        Assert.True(result.ExitCode == 0, $"accel {string.Join(' ', args)} failed: {result.StdErr}");
        return JsonDocument.Parse(result.StdOut);
    }
}
