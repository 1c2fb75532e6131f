using AccelBroker.Agent.Isolation;
using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Isolation.Corpus;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
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
        Assert.Equal(expected, (await neighbour.RunAsync(other, [input]))[0].ToSingleArray());
        Assert.Equal(0, SliceWorkerOf(neighbour).Crashes);
    }

    private SliceWorker SliceWorkerOf(AcceleratorSession session)
    {
        Assert.True(_cluster.Agent.Services.GetRequiredService<SliceWorkers>().TryGet(session.Accelerator.Id, out SliceWorker? worker));
        return worker;
    }
}
