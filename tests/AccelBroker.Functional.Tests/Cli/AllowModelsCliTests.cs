using System.Text.Json;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Integration;
using Xunit;

namespace AccelBroker.Tests.Cli;

/// <summary><c>accel attach --allow-model…</c>, <c>accel allow-models</c> and the allowlist in <c>describe-accelerators</c>, against a real broker and agent.</summary>
public sealed class AllowModelsCliTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task AttachPinsTheHostToHashesAndFilesAndAllowModelsChangesAndClearsIt()
    {
        string identity = ModelAllowlistTests.Sha256Of("identity.pt");
        string demo = ModelAllowlistTests.Sha256Of("demo_mlp.pt");
        string host = NewHost();

        using JsonDocument attached = await JsonAsync(
            "attach", "--host", host, "--type", TestCluster.TinySlice, "--allow-model", demo.ToUpperInvariant(), "--allow-model-file", Fixtures.Path("identity.pt"), "--json");
        Assert.Equal(2, attached.RootElement.GetProperty("allowed_models").GetInt32());
        Assert.Equal(Sorted(identity, demo), Hashes(attached.RootElement));

        using (JsonDocument described = await JsonAsync("describe-accelerators", "--host", host, "--json"))
        {
            JsonElement device = described.RootElement.GetProperty("devices")[0];
            Assert.Equal(2, device.GetProperty("allowed_models").GetInt32());
            Assert.Equal(Sorted(identity, demo), Hashes(device));
        }

        CliProcess.Result narrowed = await RunAsync("allow-models", "--host", host, "--model-file", Fixtures.Path("demo_mlp.pt"));
        Assert.Equal(0, narrowed.ExitCode);
        Assert.Contains($"{host} ordinal 0", narrowed.StdOut, StringComparison.Ordinal);
        Assert.Contains("may load 1 model(s):", narrowed.StdOut, StringComparison.Ordinal);
        Assert.Contains(demo, narrowed.StdOut, StringComparison.Ordinal);

        using (JsonDocument none = await JsonAsync("allow-models", "--host", host, "--ordinal", "0", "--none", "--json"))
        {
            Assert.Equal(0, none.RootElement.GetProperty("allowed_models").GetInt32());
        }

        CliProcess.Result table = await RunAsync("describe-accelerators", "--host", host);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("allowed", table.StdOut, StringComparison.Ordinal);

        CliProcess.Result cleared = await RunAsync("allow-models", "--host", host, "--clear");
        Assert.Equal(0, cleared.ExitCode);
        Assert.Contains("may load any model", cleared.StdOut, StringComparison.Ordinal);
        using (JsonDocument described = await JsonAsync("describe-accelerators", "--host", host, "--json"))
        {
            JsonElement device = described.RootElement.GetProperty("devices")[0];
            Assert.Equal(JsonValueKind.Null, device.GetProperty("allowed_models").ValueKind);
            Assert.Equal(JsonValueKind.Null, device.GetProperty("allowed_model_sha256").ValueKind);
        }
    }

    [Fact]
    public async Task ABadHashIsOneLineOnStderrAndChangesNothing()
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);

        CliProcess.Result bad = await RunAsync("allow-models", "--host", host, "--model", "abc123");
        CliProcess.Result badAttach = await RunAsync("attach", "--host", host, "--type", TestCluster.TinySlice, "--allow-model", "xyz");

        Assert.Equal(1, bad.ExitCode);
        Assert.Equal("accel: error: InvalidArgument: allowlist entry 0 ('abc123') is not a SHA-256: expected 64 hex digits", bad.StdErr.Trim());
        Assert.Equal(1, badAttach.ExitCode);
        Assert.Contains("InvalidArgument: allowlist entry 0 ('xyz')", badAttach.StdErr, StringComparison.Ordinal);
        using JsonDocument described = await JsonAsync("describe-accelerators", "--host", host, "--json");
        Assert.Equal(1, described.RootElement.GetProperty("attached_accelerators").GetInt32());
        Assert.Equal(JsonValueKind.Null, described.RootElement.GetProperty("devices")[0].GetProperty("allowed_models").ValueKind);
    }

    [Theory]
    [InlineData]
    [InlineData("--clear", "--none")]
    [InlineData("--clear", "--model", "0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task AllowModelsNeedsExactlyOneOfModelsNoneOrClear(params string[] choice)
    {
        string host = NewHost();
        await _cluster.AttachAsync(host, TestCluster.TinySlice);

        CliProcess.Result result = await RunAsync(["allow-models", "--host", host, .. choice]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("give --model or --model-file (repeatable), or --none, or --clear: exactly one of them", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingModelFileIsAUsageError()
    {
        CliProcess.Result result = await RunAsync("allow-models", "--host", NewHost(), "--model-file", "/nonexistent/model.pt");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("model file '/nonexistent/model.pt' does not exist", result.StdErr, StringComparison.Ordinal);
    }

    private static string[] Sorted(params string[] hashes) => [.. hashes.Order(StringComparer.Ordinal)];

    private static string[] Hashes(JsonElement accelerator) =>
        [.. accelerator.GetProperty("allowed_model_sha256").EnumerateArray().Select(e => e.GetString()!)];

    private static string NewHost() => "allowcli-" + Guid.NewGuid().ToString("N")[..8];

    private Task<CliProcess.Result> RunAsync(params string[] args) => CliInProcess.RunAsync([.. args, "--broker", _cluster.BrokerUrl]);

    private async Task<JsonDocument> JsonAsync(params string[] args)
    {
        CliProcess.Result result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"accel {string.Join(' ', args)} failed: {result.StdErr}");
        return JsonDocument.Parse(result.StdOut);
    }
}
