using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Isolation;

/// <summary>A forward pass that never returns cannot keep the agent's execution slot from other slices.</summary>
[Collection(TimingSensitiveCollection.Name)]
public sealed class RunawayModelTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public RunawayModelTests(ClusterFixture fixture) => _cluster = fixture.Cluster;

    [Fact]
    public async Task ARunPastItsDeadlineIsStoppedWithItsWorkerAndTheSlotGoesToTheNeighbour()
    {
        string spin = Fixtures.Path("hazards/spin_on_run.pt");
        // Loads (a new worker process for each slice) and the reload at the end get 20 s, which a busy machine may need;
        // only the runaway call goes through a session on the same slice with a 2 s deadline.
        var patient = new AcceleratorSessionOptions { CallTimeout = TimeSpan.FromSeconds(20) };
        var options = new ModelLoadOptions { WarmupInputs = [(TensorDataType.Float32, [1, 4])] };
        await using AcceleratorSession session = await _cluster.OpenSessionAsync(patient);
        await using AcceleratorSession neighbour = await _cluster.OpenSessionAsync(patient);
        RemoteModel spinner = await session.LoadModelAsync(spin, options);
        await using AcceleratorSession hasty = await _cluster.OpenSessionAsync(session.Accelerator.Host, session.Accelerator.Ordinal, new AcceleratorSessionOptions { CallTimeout = TimeSpan.FromSeconds(2) });
        RemoteModel hastySpinner = await hasty.LoadModelAsync(spin, options);
        RemoteModel other = await neighbour.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        float[] expected = (await neighbour.RunAsync(other, [input]))[0].ToSingleArray();

        AccelBroker.Agent.Isolation.WorkerProcess worker = _cluster.SliceWorkerOf(session.Accelerator.Id).Current!;

        // A positive input loops for ever; the caller's 2 s deadline passes first.
        RpcException late = await Assert.ThrowsAsync<RpcException>(() => hasty.RunAsync(hastySpinner, [Tensor.FromArray([1f, 1f, 1f, 1f], 1, 4)]));
        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);

        // With one execution slot on the agent, the neighbour runs only once the runaway pass is stopped.
        Assert.Equal(expected, (await neighbour.RunAsync(other, [input]))[0].ToSingleArray());
        Assert.Contains("SIGKILL", await worker.Exited.WaitAsync(TimeSpan.FromSeconds(10)), StringComparison.Ordinal);
        Assert.Equal(1, _cluster.SliceWorkerOf(session.Accelerator.Id).Crashes);
        Assert.Equal(0, _cluster.SliceWorkerOf(neighbour.Accelerator.Id).Crashes);

        // The runaway's slice still serves: its model reloads in a new worker.
        ModelOutput zeros = await session.RunAsync(spinner, [Tensor.Zeros(TensorDataType.Float32, 1, 4)]);
        Assert.Equal(new float[4], zeros[0].ToSingleArray());
    }
}
