using AccelBroker.Agent.Isolation;
using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Isolation.Corpus;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Isolation;

/// <summary>Bytes that crash the loader cost their slice one worker, once, and never run again.</summary>
public sealed class QuarantineTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public QuarantineTests(ClusterFixture fixture) => _cluster = fixture.Cluster;

    [Fact]
    public async Task AModelThatCrashesTheLoaderIsRefusedThenAndEverAfterWhileTheSliceKeepsItsOtherModels()
    {
        await using AcceleratorSession session = await _cluster.OpenSessionAsync();
        await using AcceleratorSession neighbour = await _cluster.OpenSessionAsync();
        RemoteModel good = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        RemoteModel other = await neighbour.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        float[] expected = (await session.RunAsync(good, [input]))[0].ToSingleArray();
        // An emptied code file: libtorch's ErrorReport escapes as std::terminate and aborts the process.
        string path = Fixtures.Path("demo_mlp.pt");
        MutatedModel crasher = new ModelMutator().Mutate("demo_mlp", await File.ReadAllBytesAsync(path), MutationKind.EmptyCodeFile, seed: 1);
        SliceWorker worker = SliceWorkerOf(session);
        WorkerProcess before = worker.Current!;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task<(int Runs, List<string> Failures)> throughout = RunUntilStoppedAsync(neighbour, other, input, expected, stop.Token);

        RpcException crashed = await Assert.ThrowsAsync<RpcException>(() => session.LoadModelAsync(crasher.Bytes));

        Assert.Equal(StatusCode.InvalidArgument, crashed.StatusCode);
        Assert.Matches(@"^the model crashed the loader \((std::terminate, SIGABRT|SIGSEGV|stack overflow)\)", crashed.Status.Detail);
        Assert.False(before.IsAlive);
        Assert.Equal(1, worker.Crashes);

        // The same bytes again are refused at once, without a worker running them (no second crash).
        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => session.LoadModelAsync(crasher.Bytes));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("crashed the loader before", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, worker.Crashes);

        // The slice's own model reloads in its new worker; the neighbour never noticed.
        Assert.Equal(expected, (await session.RunAsync(good, [input]))[0].ToSingleArray());
        await stop.CancelAsync();
        (int runs, List<string> failures) = await throughout;
        Assert.Empty(failures);
        Assert.True(runs > 0, "the neighbour ran while the crash happened");
        Assert.Equal(0, SliceWorkerOf(neighbour).Crashes);
    }

    // The neighbour's runs, back to back, while the other slice crashes: every one must answer, and correctly.
    private static async Task<(int Runs, List<string> Failures)> RunUntilStoppedAsync(AcceleratorSession session, RemoteModel model, Tensor input, float[] expected, CancellationToken stop)
    {
        var failures = new List<string>();
        int runs = 0;
        while (!stop.IsCancellationRequested && runs < 20_000)
        {
            try
            {
                float[] output = (await session.RunAsync(model, [input]))[0].ToSingleArray();
                if (!output.SequenceEqual(expected))
                {
                    failures.Add($"run {runs}: wrong output");
                }
            }
            catch (RpcException ex)
            {
                failures.Add($"run {runs}: {ex.StatusCode} {ex.Status.Detail}");
            }

            runs++;
        }

        return (runs, failures);
    }

    private SliceWorker SliceWorkerOf(AcceleratorSession session) => _cluster.SliceWorkerOf(session.Accelerator.Id);
}
