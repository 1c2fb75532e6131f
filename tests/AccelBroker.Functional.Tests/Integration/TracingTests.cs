using System.Collections.Concurrent;
using System.Diagnostics;
using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>A run's spans on the agent join the application's trace: W3C trace context crosses the call.</summary>
public sealed class TracingTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public TracingTests(ClusterFixture fixture) => _cluster = fixture.Cluster;

    [Fact]
    public async Task TheAgentsRunSpanIsAChildInTheClientsTraceAndFailuresAreMarked()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is AcceleratorTracing.SourceName or "AccelBroker.Agent",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);
        await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(model, [Tensor.Zeros(TensorDataType.Float32, 3, 3)]));

        string slice = session.Accelerator.Id;
        List<Activity> ours = [.. stopped.Where(a => Equals(a.GetTagItem("accel.accelerator_id"), slice) || Equals(a.GetTagItem("accel.slice_id"), slice))];
        Activity load = Assert.Single(ours, a => a.OperationName == "accel.load_model");
        Assert.Equal(model.Sha256, load.GetTagItem("accel.model_sha256"));
        List<Activity> clientRuns = [.. ours.Where(a => a.OperationName == "accel.run")];
        List<Activity> agentRuns = [.. ours.Where(a => a.OperationName == "agent.run")];
        Assert.Equal(2, clientRuns.Count);
        Assert.Equal(2, agentRuns.Count);

        foreach (Activity client in clientRuns)
        {
            Activity agent = Assert.Single(agentRuns, a => a.TraceId == client.TraceId);
            Assert.NotEqual(default, agent.ParentSpanId);
            Assert.Equal(model.ModelId, agent.GetTagItem("accel.model_id"));
            Assert.Equal(client.Status, agent.Status);
        }

        Activity failed = Assert.Single(agentRuns, a => a.Status == ActivityStatusCode.Error);
        Assert.Equal(nameof(StatusCode.InvalidArgument), failed.StatusDescription);
        Assert.NotNull(Assert.Single(agentRuns, a => a.Status != ActivityStatusCode.Error).GetTagItem("accel.compute_seconds"));
    }
}
