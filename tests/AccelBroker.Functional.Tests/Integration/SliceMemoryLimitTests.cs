using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;
using Tensor = AccelBroker.Client.Tensor;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Memory budgets through the real broker and agent on loopback, on 16 MiB test.tiny slices (threshold 90 %).
/// identity.pt has no weights, so what a copy is charged is its warm-up's measured peak: two buffers of the
/// warm-up shape (the zeros and their clone). On CPU that peak is process-wide RSS, which other tests running in
/// parallel can raise a little; the assertions hold for any charge near the nominal one.
/// </summary>
public sealed class SliceMemoryLimitTests : IClassFixture<ClusterFixture>
{
    private const long Budget = 16L << 20;
    private const long Threshold = Budget * 9 / 10;

    private readonly TestCluster _cluster;

    public SliceMemoryLimitTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task AModelLargerThanItsSliceIsResourceExhaustedAndTheOtherModelsKeepRunning()
    {
        await using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel small = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));

        // A warm-up on 32 MiB of input peaks at twice that: four times the slice.
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => session.LoadModelAsync(Fixtures.Path("identity.pt"), new ModelLoadOptions
        {
            WarmupInputs = [(TensorDataType.Float32, [1, 8L << 20])],
        }));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Matches(@"needs \d+ bytes \(measured\) but slice 'acc-[0-9a-f]+' has \d+ of its 16777216 bytes available", error.Status.Detail);
        ListModelsResponse models = await ListAsync(session);
        Assert.Equal([small.ModelId], models.Models.Select(m => m.ModelId));
        Assert.True(models.Models[0].Resident);
        Assert.Equal(0, models.Evictions);
        ModelOutput output = await session.RunAsync(small, [Fixtures.Npy("demo_mlp.input0.npy")]);
        Assert.Equal([1L, 8L], output[0].Shape);
    }

    [Fact]
    public async Task ManyModelsShareASliceByEvictionAndEveryOneStillRuns()
    {
        await using AcceleratorSession session = await _cluster.OpenSessionAsync();

        // Each copy: a 2 MiB warm-up input and its clone, about 4 MiB; three fit under the 14.4 MiB threshold.
        var copies = new List<RemoteModel>();
        var evicted = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            RemoteModel copy = await session.LoadModelAsync(Fixtures.Path("identity.pt"), new ModelLoadOptions
            {
                Alias = $"copy-{i}",
                WarmupInputs = [(TensorDataType.Float32, [1, 512L * 1024])],
            });
            Assert.InRange(copy.ChargedBytes, 4L << 20, Threshold / 2); // at least the warm-up input and output
            copies.Add(copy);
            evicted.AddRange(copy.EvictedModelIds);
            Assert.True((await ListAsync(session)).ChargedBytes <= Budget);
        }

        // The least recently used went first, and the latest copy stayed.
        Assert.NotEmpty(evicted);
        Assert.Equal(copies[0].ModelId, evicted[0]);
        Assert.DoesNotContain(copies[^1].ModelId, evicted);

        // Every copy answers, evicted or not: the agent reloads it from its store, the client never uploads again.
        Tensor input = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        foreach (RemoteModel copy in copies)
        {
            ModelOutput output = await session.RunAsync(copy, [input]);
            Assert.Equal(input.ToSingleArray(), output[0].ToSingleArray());
        }

        ListModelsResponse models = await ListAsync(session);
        Assert.Equal(5, models.Models.Count);
        Assert.True(models.Loads > 5, $"expected reloads, got {models.Loads} loads");
        Assert.True(models.ChargedBytes <= Budget);
        Assert.True(models.Models.Where(m => m.Resident).Sum(m => m.ChargedBytes) == models.ChargedBytes);
        Assert.All(models.Models, m => Assert.Equal(1, m.Runs));
        Assert.Contains(models.Models, m => m.LoadCount > 1);
    }

    [Fact]
    public async Task BadLoadOptionsAreInvalidArgumentAndTheSliceKeepsServing()
    {
        await using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));

        RpcException alias = await Assert.ThrowsAsync<RpcException>(() => session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"), new ModelLoadOptions { Alias = "no/slashes" }));
        RpcException batching = await Assert.ThrowsAsync<RpcException>(() => session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"), new ModelLoadOptions
        {
            Alias = "b",
            Batching = new BatchingOptions(8, TimeSpan.FromSeconds(2)),
        }));

        Assert.Equal((StatusCode.InvalidArgument, StatusCode.InvalidArgument), (alias.StatusCode, batching.StatusCode));
        Assert.Contains("alias must be at most 64 letters", alias.Status.Detail);
        Assert.Contains("max_delay_micros must be between 0 and 1000000, got 2000000", batching.Status.Detail);
        Assert.Equal([model.ModelId], (await ListAsync(session)).Models.Select(m => m.ModelId));
        await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);
    }

    [Fact]
    public async Task ListingTheModelsOfASliceTheAgentDoesNotHoldIsRefusedEvenWithAValidToken()
    {
        // A broker-signed token for a slice this agent does not hold (detached, or moved) reaches nothing.
        RpcException error = await Assert.ThrowsAsync<RpcException>(
            () => _cluster.AgentClient.ListModelsAsync(new ListModelsRequest { SliceId = "acc-missing" }, deadline: TestCluster.Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("slice 'acc-missing' is not held by this agent", error.Status.Detail);
    }

    private Task<ListModelsResponse> ListAsync(AcceleratorSession session) =>
        _cluster.AgentClient.ListModelsAsync(new ListModelsRequest { SliceId = session.Accelerator.Id }, deadline: TestCluster.Deadline()).ResponseAsync;
}
