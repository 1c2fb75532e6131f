using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// The public slice and agent clients against a real broker and agent, on 16 MiB test.tiny slices: the listing, loads,
/// unloads and agent-local benchmark accel models, max-models and compare make. demo_mlp loaded without a warm-up is
/// charged exactly its weights, 6432 bytes.
/// </summary>
public sealed class SliceClientTests : IClassFixture<ClusterFixture>
{
    private const long DemoMlpBytes = 6432;

    private readonly TestCluster _cluster;

    public SliceClientTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task UploadsOnlyBytesTheAgentDoesNotHold()
    {
        using FleetClient fleet = Fleet();
        string path = CopyOf("identity.pt");

        HeldModel first, second;
        try
        {
            first = await (await fleet.OpenAgentAsync(_cluster.AgentId)).EnsureModelHeldAsync(path);
            second = await (await fleet.OpenAgentAsync(_cluster.AgentId)).EnsureModelHeldAsync(path);
        }
        finally
        {
            File.Delete(path);
        }

        Assert.True(first.Uploaded);
        Assert.False(second.Uploaded);
        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Equal(new FileInfo(Fixtures.Path("identity.pt")).Length + 16, first.Length);
        Assert.Matches("^[0-9a-f]{64}$", first.Sha256);
    }

    [Fact]
    public async Task LoadsListsAndUnloadsADistinctCopyWithTheSlicesCharge()
    {
        using FleetClient fleet = Fleet();
        (string host, SliceClient slice) = await AttachAsync(fleet);
        HeldModel held = await slice.Agent.EnsureModelHeldAsync(Fixtures.Path("demo_mlp.pt"));

        RemoteModel plain = await slice.LoadModelAsync(held);
        RemoteModel copy = await slice.LoadModelAsync(held, new ModelLoadOptions { Alias = "copy-1" });
        ListModelsResponse listed = await slice.ListModelsAsync();

        Assert.Equal(slice.SliceId, listed.SliceId);
        Assert.NotEqual(plain.ModelId, copy.ModelId);
        Assert.EndsWith("-copy-1", copy.ModelId);
        Assert.Equal(DemoMlpBytes, copy.ChargedBytes);
        Assert.Equal(2 * DemoMlpBytes, copy.SliceChargedBytes);
        Assert.Equal(2 * DemoMlpBytes, listed.ChargedBytes);
        Assert.Equal(16L * 1024 * 1024, listed.BudgetBytes);
        Assert.Equal([plain.ModelId, copy.ModelId], listed.Models.Where(m => m.Resident).Select(m => m.ModelId).Order());
        Assert.Equal("copy-1", listed.Models.Single(m => m.ModelId == copy.ModelId).Alias);

        await slice.UnloadModelAsync(copy.ModelId);
        ListModelsResponse after = await slice.ListModelsAsync();
        Assert.Equal(DemoMlpBytes, after.ChargedBytes);
        Assert.DoesNotContain(after.Models, m => m.ModelId == copy.ModelId && m.Resident);
        await fleet.DetachAsync(host, 0);
    }

    [Fact]
    public async Task TheWarmUpOfALoadReachesTheAgentAndIsCharged()
    {
        using FleetClient fleet = Fleet();
        (string host, SliceClient slice) = await AttachAsync(fleet);
        HeldModel held = await slice.Agent.EnsureModelHeldAsync(Fixtures.Path("demo_mlp.pt"));

        RemoteModel warmed = await slice.LoadModelAsync(held, new ModelLoadOptions { Alias = "warm", WarmupInputs = [(TensorDataType.Float32, [4, 16])] });

        // At least the warm-up's input (4 x 16 float32) and its output on top of the weights.
        Assert.True(warmed.ChargedBytes >= DemoMlpBytes + (4 * 16 * 4), $"charged {warmed.ChargedBytes}");
        await fleet.DetachAsync(host, 0);
    }

    [Fact]
    public async Task BadLoadsAndUnloadsGetTheAgentsStatusAndMessage()
    {
        using FleetClient fleet = Fleet();
        (string host, SliceClient slice) = await AttachAsync(fleet);
        HeldModel held = await slice.Agent.EnsureModelHeldAsync(Fixtures.Path("demo_mlp.pt"));

        RpcException badAlias = await Assert.ThrowsAsync<RpcException>(() => slice.LoadModelAsync(held, new ModelLoadOptions { Alias = "no spaces" }));
        RpcException notHeld = await Assert.ThrowsAsync<RpcException>(() => slice.LoadModelAsync(new HeldModel(new string('b', 64), 1, Uploaded: false)));
        RpcException unknownModel = await Assert.ThrowsAsync<RpcException>(() => slice.UnloadModelAsync("no-such-model"));

        Assert.Equal(StatusCode.InvalidArgument, badAlias.StatusCode);
        Assert.StartsWith("alias must be at most 64 letters, digits", badAlias.Status.Detail);
        Assert.Equal(StatusCode.NotFound, notHeld.StatusCode);
        Assert.Contains($"was not uploaded through slice '{slice.SliceId}'; upload it first", notHeld.Status.Detail);
        Assert.Equal(StatusCode.NotFound, unknownModel.StatusCode);
        Assert.StartsWith($"unknown model 'no-such-model' on slice '{slice.SliceId}'", unknownModel.Status.Detail);

        await fleet.DetachAsync(host, 0);
        RpcException detached = await Assert.ThrowsAsync<RpcException>(() => WhenReleasedAsync(slice));
        // The slice token outlives the slice, but reaches nothing once the agent let the slice go.
        Assert.Equal(StatusCode.FailedPrecondition, detached.StatusCode);
        Assert.Equal($"slice '{slice.SliceId}' is not held by this agent (detached, or moved to another agent); resolve the accelerator again", detached.Status.Detail);
    }

    [Fact]
    public async Task AModelLargerThanTheSliceIsResourceExhaustedNamingTheBytes()
    {
        using FleetClient fleet = Fleet();
        (string host, SliceClient slice) = await AttachAsync(fleet);
        HeldModel held = await slice.Agent.EnsureModelHeldAsync(Fixtures.Path("demo_mlp.pt"));

        // A 32 MiB warm-up input cannot fit a 16 MiB slice.
        RpcException error = await Assert.ThrowsAsync<RpcException>(() =>
            slice.LoadModelAsync(held, new ModelLoadOptions { Alias = "big", WarmupInputs = [(TensorDataType.Float32, [512 * 1024, 16])] }));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("bytes", error.Status.Detail);
        Assert.Contains(slice.SliceId, error.Status.Detail);
        await fleet.DetachAsync(host, 0);
    }

    [Fact]
    public async Task TheAgentLocalBenchmarkTimesEachMeasuredRunOnTheAgent()
    {
        using FleetClient fleet = Fleet();
        AgentClient agent = (await fleet.OpenAgentAsync(_cluster.AgentId));
        HeldModel held = await agent.EnsureModelHeldAsync(Fixtures.Path("demo_mlp.pt"));

        LocalBenchmarkResult result = await agent.BenchmarkLocalAsync(held, [Fixtures.Npy("demo_mlp.input0.npy")], new LocalBenchmarkOptions { Iterations = 7, Warmup = 2 });
        RpcException badCount = await Assert.ThrowsAsync<RpcException>(() =>
            agent.BenchmarkLocalAsync(held, [Fixtures.Npy("demo_mlp.input0.npy")], new LocalBenchmarkOptions { Iterations = 0 }));

        Assert.Equal(7, result.LatenciesSeconds.Count);
        Assert.All(result.LatenciesSeconds, s => Assert.InRange(s, 1e-9, 10));
        Assert.StartsWith("cpu", result.Device);
        Assert.Equal(StatusCode.InvalidArgument, badCount.StatusCode);
        Assert.Contains("iterations must be between 1 and 100000", badCount.Status.Detail);
    }

    [Fact]
    public async Task AnAgentThatIsDownIsUnavailable()
    {
        var agent = new AgentClient("http://127.0.0.1:1", new AgentClientOptions { TransferTimeout = TimeSpan.FromSeconds(5) });

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => agent.EnsureModelHeldAsync(Fixtures.Path("demo_mlp.pt")));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    // The agent drops a detached slice with the broker's next heartbeat answer (every 2 s here).
    private static async Task WhenReleasedAsync(SliceClient slice)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            await slice.ListModelsAsync();
            await Task.Delay(100);
        }
    }

    private async Task<(string Host, SliceClient Slice)> AttachAsync(FleetClient fleet)
    {
        string host = "slice-" + Guid.NewGuid().ToString("N")[..8];
        Accelerator attached = await fleet.AttachAsync(host, TestCluster.TinySlice);
        SliceClient slice = await fleet.OpenSliceAsync(host, attached.Ordinal);
        Assert.Equal(attached.Id, slice.SliceId);
        return (host, slice);
    }

    // Bytes of their own (16 random ones appended; never loaded), so no other test has uploaded them yet.
    private static string CopyOf(string fixture)
    {
        string path = Path.Combine(Path.GetTempPath(), $"accel-slice-test-{Guid.NewGuid():N}.pt");
        byte[] bytes = File.ReadAllBytes(Fixtures.Path(fixture));
        File.WriteAllBytes(path, [.. bytes, .. Guid.NewGuid().ToByteArray()]);
        return path;
    }

    private FleetClient Fleet() => new(new FleetClientOptions { Broker = _cluster.BrokerUrl, ApiKey = _cluster.AdminKey });
}
