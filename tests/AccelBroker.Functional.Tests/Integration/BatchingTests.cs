using AccelBroker.Cli.Hosting;
using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Dynamic batching end to end on a real agent (TorchSharp on CPU): concurrent requests of a model loaded with
/// batching are merged, every caller gets the answer it would get alone, requests of other shapes are never mixed
/// in, and a request that breaks a batch fails only its own caller. Each test has its own fleet, so the batch-size
/// histogram in the agent's scrape counts only its runs.
/// </summary>
public sealed class BatchingTests
{
    // Matrix products of a batch may take another BLAS path than those of one row: equal up to float rounding.
    private const float Tolerance = 1e-5f;
    private const int Callers = 16;

    [Fact]
    public async Task ConcurrentRequestsAreMergedAndEachGetsItsOwnAnswer()
    {
        await using LoopbackFleet fleet = await StartAsync();
        await using AcceleratorSession session = await OpenAsync(fleet, "batch-host");
        (RemoteModel alone, RemoteModel batched) = await LoadTwoCopiesAsync(session, "demo_mlp.pt", new BatchingOptions(MaxBatchSize: 64, MaxDelay: TimeSpan.FromMilliseconds(200)));
        var random = new Random(7);
        Tensor[] inputs = [.. Enumerable.Range(0, Callers).Select(i => RandomRows(random, rows: 1 + (i % 3), columns: 16))];

        ModelOutput[] outputs = await Task.WhenAll(inputs.Select(input => session.RunAsync(batched, [input])));

        for (int i = 0; i < Callers; i++)
        {
            ModelOutput expected = await session.RunAsync(alone, [inputs[i]]);
            Assert.Equal(expected[0].Shape, outputs[i][0].Shape);
            AssertClose(expected[0].ToSingleArray(), outputs[i][0].ToSingleArray());
        }

        // Every row ran once, in fewer executions than requests: they were merged.
        PrometheusScrape scrape = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
        (string, string) model = ("model", batched.ModelId);
        Assert.Equal(inputs.Sum(t => t.Shape[0]), scrape.Value("accelbroker_agent_batch_size_sum", model));
        double executions = scrape.Value("accelbroker_agent_batch_size_count", model);
        Assert.InRange(executions, 1, Callers - 1);
    }

    [Fact]
    public async Task RequestsOfDifferentShapesAreNeverMixed()
    {
        await using LoopbackFleet fleet = await StartAsync();
        await using AcceleratorSession session = await OpenAsync(fleet, "shape-host");
        (RemoteModel alone, RemoteModel batched) = await LoadTwoCopiesAsync(session, "token_ids.pt", new BatchingOptions(32, TimeSpan.FromMilliseconds(200)));
        var random = new Random(11);

        // Sequence lengths 5 to 8: only requests of one length may share an execution.
        Tensor[] inputs = [.. Enumerable.Range(0, Callers).Select(i => TokenIds(random, length: 5 + (i % 4)))];
        ModelOutput[] outputs = await Task.WhenAll(inputs.Select(input => session.RunAsync(batched, [input])));

        for (int i = 0; i < Callers; i++)
        {
            ModelOutput expected = await session.RunAsync(alone, [inputs[i]]);
            AssertClose(expected[0].ToSingleArray(), outputs[i][0].ToSingleArray());
        }

        PrometheusScrape scrape = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
        Assert.Equal(Callers, scrape.Value("accelbroker_agent_batch_size_sum", ("model", batched.ModelId)));
    }

    [Fact]
    public async Task ARequestThatBreaksItsBatchFailsAloneAndTheOthersGetTheirAnswers()
    {
        await using LoopbackFleet fleet = await StartAsync();
        await using AcceleratorSession session = await OpenAsync(fleet, "fail-host");
        (RemoteModel alone, RemoteModel batched) = await LoadTwoCopiesAsync(session, "token_ids.pt", new BatchingOptions(32, TimeSpan.FromMilliseconds(200)));
        var random = new Random(13);
        Tensor[] inputs = [.. Enumerable.Range(0, 8).Select(_ => TokenIds(random, length: 6))];

        // Same shape as the others, but id 5000 is outside the embedding's 1000 rows.
        long[] bad = inputs[3].ToArray<long>();
        bad[2] = 5000;
        inputs[3] = Tensor.FromArray(bad, 1, 6);

        Task<ModelOutput>[] runs = [.. inputs.Select(input => session.RunAsync(batched, [input]))];
        await Task.WhenAll(runs).ContinueWith(_ => { }, TaskScheduler.Default);

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => runs[3]);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        for (int i = 0; i < inputs.Length; i++)
        {
            if (i != 3)
            {
                ModelOutput expected = await session.RunAsync(alone, [inputs[i]]);
                AssertClose(expected[0].ToSingleArray(), (await runs[i])[0].ToSingleArray());
            }
        }

        // The model keeps serving batches.
        ModelOutput after = await session.RunAsync(batched, [inputs[0]]);
        AssertClose((await runs[0])[0].ToSingleArray(), after[0].ToSingleArray());
    }

    [Fact]
    public async Task WithoutBatchingEveryRequestRunsAlone()
    {
        await using LoopbackFleet fleet = await StartAsync();
        await using AcceleratorSession session = await OpenAsync(fleet, "plain-host");
        RemoteModel plain = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        var random = new Random(17);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => session.RunAsync(plain, [RandomRows(random, 1, 16)])));

        PrometheusScrape scrape = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
        Assert.Empty(scrape.Matching("accelbroker_agent_batch_size_count", ("model", plain.ModelId)));
        Assert.Equal(8, scrape.Value("accelbroker_agent_inferences_total", ("model", plain.ModelId), ("outcome", "ok")));
    }

    private static Task<LoopbackFleet> StartAsync() =>
        LoopbackFleet.StartAsync(new LoopbackFleetOptions { EnableMetrics = true, AgentMemoryBytes = 16L << 30 });

    private static async Task<AcceleratorSession> OpenAsync(LoopbackFleet fleet, string host)
    {
        await fleet.AttachAsync(host, "eia2.medium");
        return await fleet.OpenSessionAsync(host, 0);
    }

    /// <summary>The model twice on one slice: as it is, and with batching, so each batched answer has a reference.</summary>
    private static async Task<(RemoteModel Alone, RemoteModel Batched)> LoadTwoCopiesAsync(AcceleratorSession session, string model, BatchingOptions batching) =>
        (await session.LoadModelAsync(Fixtures.Path(model)),
         await session.LoadModelAsync(Fixtures.Path(model), new ModelLoadOptions { Alias = "batched", Batching = batching }));

    private static Tensor RandomRows(Random random, int rows, int columns) =>
        Tensor.FromArray([.. Enumerable.Range(0, rows * columns).Select(_ => (float)((random.NextDouble() * 2) - 1))], rows, columns);

    private static Tensor TokenIds(Random random, int length) =>
        Tensor.FromArray([.. Enumerable.Range(0, length).Select(_ => (long)random.Next(1000))], 1, length);

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
