using System.Diagnostics;
using AccelBroker.Agent;
using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using TorchSharp;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>Capacity and reachability failures, each on a cluster of its own.</summary>
public sealed class ClusterFailureTests
{
    [Fact]
    public async Task NoAgentWithRoomIsResourceExhaustedAndNothingIsRecorded()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(agentMemoryBytes: 5L * 1024 * 1024 * 1024);
        await cluster.AttachAsync("full", "eia2.large");

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => cluster.AttachAsync("full", "eia2.large"));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        var described = await cluster.BrokerClient.DescribeAcceleratorsAsync(new Protocol.V1.DescribeAcceleratorsRequest { Host = "full" });
        Assert.Single(described.Accelerators);
        Assert.Equal(TestCluster.TinySlice, (await cluster.AttachAsync("full", TestCluster.TinySlice)).SliceType);
    }

    [Fact]
    public async Task AnUnreachableBrokerIsUnavailableWithinTheDeadline()
    {
        var watch = Stopwatch.StartNew();
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => AcceleratorSession.OpenAsync(
            new AcceleratorSessionOptions { Broker = "http://127.0.0.1:1", Host = "h", CallTimeout = TimeSpan.FromSeconds(5) }));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task AnUnreachableAgentIsUnavailableWithinTheDeadline()
    {
        await using TestCluster cluster = await TestCluster.StartAsync();
        using AcceleratorSession session = await cluster.OpenSessionAsync(new AcceleratorSessionOptions { CallTimeout = TimeSpan.FromSeconds(5) });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        await cluster.Agent.StopAsync();

        var watch = Stopwatch.StartNew();
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]));

        Assert.True(error.StatusCode is StatusCode.Unavailable, $"got {error.StatusCode}: {error.Status.Detail}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public void CudaIsUsedWhenPresentAndNeverClaimedWhenAbsent()
    {
        if (torch.cuda.is_available())
        {
            using var app = AgentHost.Build(new AgentOptions { Listen = "http://127.0.0.1:0", Device = "cuda:0" });
            Assert.NotNull(app);
            return;
        }

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => AgentHost.Build(new AgentOptions { Listen = "http://127.0.0.1:0", Device = "cuda:0" }));
        Assert.Contains("CUDA is not available", error.Message);
    }
}
