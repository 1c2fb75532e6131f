using AccelBroker.Agent.Execution;
using AccelBroker.Client;
using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>BenchmarkLocal on a real agent: the standalone-instance measurement of seed 002.</summary>
public sealed class LocalBenchmarkTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public LocalBenchmarkTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task ReturnsOneLatencyPerMeasuredRunAndTheDevice()
    {
        string sha256 = await HoldAsync("demo_mlp.pt");
        ComputeScheduler scheduler = _cluster.Agent.Services.GetRequiredService<ComputeScheduler>();
        double usedBefore = scheduler.UsageOf(LocalBenchmark.ComputeTenant).SecondsUsed;

        BenchmarkLocalResponse response = await BenchmarkAsync(Request(sha256, iterations: 25, warmup: 3));

        Assert.Equal(25, response.LatenciesSeconds.Count);
        Assert.All(response.LatenciesSeconds, s => Assert.InRange(s, 1e-9, 10));
        Assert.StartsWith("cpu", response.Device);
        Assert.Equal(0, Benchmark.Active);
        // Its runs took execution slots like any slice's, under its own tenant.
        Assert.True(scheduler.UsageOf(LocalBenchmark.ComputeTenant).SecondsUsed > usedBefore);
    }

    [Fact]
    public async Task ItsLoadWaitsForAnExecutionSlotLikeARun()
    {
        string sha256 = await HoldAsync("demo_mlp.pt");
        ComputeScheduler scheduler = _cluster.Agent.Services.GetRequiredService<ComputeScheduler>();
        Task<BenchmarkLocalResponse> benchmark;
        using (ComputeLease otherRun = await scheduler.AcquireAsync("another-slice", 0.5, CancellationToken.None))
        {
            benchmark = BenchmarkAsync(Request(sha256, iterations: 5, warmup: 0));
            for (int i = 0; i < 200 && scheduler.UsageOf(LocalBenchmark.ComputeTenant).Waiting == 0; i++)
            {
                await Task.Delay(25);
            }

            // Queued for the agent's one slot with its model not loaded yet: the load is device work too.
            Assert.Equal(1, scheduler.UsageOf(LocalBenchmark.ComputeTenant).Waiting);
            Assert.Equal(0, Benchmark.Active);
        }

        BenchmarkLocalResponse response = await benchmark.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(5, response.LatenciesSeconds.Count);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(100_001, 0)]
    [InlineData(10, -1)]
    [InlineData(10, 10_001)]
    public async Task OutOfRangeCountsAreInvalidArgument(int iterations, int warmup)
    {
        string sha256 = await HoldAsync("demo_mlp.pt");

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => BenchmarkAsync(Request(sha256, iterations, warmup)));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(iterations is < 1 or > 100_000 ? "iterations must be between 1 and 100000" : "warmup must be between 0 and 10000", error.Status.Detail);
        await AssertStillServesAsync(sha256);
    }

    [Fact]
    public async Task AModelTheAgentDoesNotHoldIsNotFound()
    {
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => BenchmarkAsync(Request(new string('a', 64), 5, 0)));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("upload it first", error.Status.Detail);
    }

    [Fact]
    public async Task InputsWhoseBytesDoNotMatchTheirShapeAreInvalidArgumentAsOnRun()
    {
        string sha256 = await HoldAsync("demo_mlp.pt");
        BenchmarkLocalRequest request = Request(sha256, 5, 0);
        request.Inputs[0].Shape[1] = 17;

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => BenchmarkAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("input 0: 64 bytes but float32 [1, 17] needs 68 bytes", error.Status.Detail);
        await AssertStillServesAsync(sha256);
    }

    [Fact]
    public async Task InputsTheModelRejectsAreInvalidArgumentWithTorchScriptsReason()
    {
        string sha256 = await HoldAsync("demo_mlp.pt");
        var request = new BenchmarkLocalRequest { Sha256 = sha256, Iterations = 5 };
        request.Inputs.Add(WireConversion.ToProto(Tensor.Zeros(TensorDataType.Float32, 1, 15), compress: false));

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => BenchmarkAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("shapes cannot be multiplied", error.Status.Detail);
        Assert.Equal(0, Benchmark.Active);
        await AssertStillServesAsync(sha256);
    }

    [Fact]
    public async Task APassedDeadlineStopsBetweenRunsAndLeavesNothingLoaded()
    {
        string sha256 = await HoldAsync("demo_mlp.pt");

        // 100,000 runs of even a tiny model take far longer than 300 ms.
        RpcException error = await Assert.ThrowsAsync<RpcException>(() =>
            _cluster.AgentClient.BenchmarkLocalAsync(Request(sha256, 100_000, 0), deadline: DateTime.UtcNow.AddMilliseconds(300)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        // The server side notices between runs; wait for it, bounded.
        for (int i = 0; i < 100 && Benchmark.Active != 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, Benchmark.Active);
        await AssertStillServesAsync(sha256);
    }

    private LocalBenchmark Benchmark => _cluster.Agent.Services.GetRequiredService<LocalBenchmark>();

    private async Task<string> HoldAsync(string fixture)
    {
        byte[] bytes = await File.ReadAllBytesAsync(Fixtures.Path(fixture));
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(bytes);
        await session.UnloadModelAsync(model);
        return model.Sha256;
    }

    private static BenchmarkLocalRequest Request(string sha256, int iterations, int warmup)
    {
        var request = new BenchmarkLocalRequest { Sha256 = sha256, Iterations = iterations, Warmup = warmup };
        request.Inputs.Add(WireConversion.ToProto(Fixtures.Npy("demo_mlp.input0.npy"), compress: false));
        return request;
    }

    private async Task<BenchmarkLocalResponse> BenchmarkAsync(BenchmarkLocalRequest request) =>
        await _cluster.AgentClient.BenchmarkLocalAsync(request, deadline: TestCluster.Deadline());

    private async Task AssertStillServesAsync(string sha256)
    {
        BenchmarkLocalResponse response = await BenchmarkAsync(Request(sha256, 2, 0));
        Assert.Equal(2, response.LatenciesSeconds.Count);
    }
}
