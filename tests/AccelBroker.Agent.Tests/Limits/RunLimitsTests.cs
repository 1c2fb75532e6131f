using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Limits;

/// <summary>
/// The fuzzed run requests of issue 11's limits, sent to a real agent: each is refused with a status and a message
/// naming the limit, before the memory it claims is taken, and the agent keeps serving. Alone in their collection:
/// they read this process's memory, which parallel tests would move.
/// </summary>
[Collection(TimingSensitiveCollection.Name)]
public sealed class RunLimitsTests : IClassFixture<LimitedAgent>
{
    private const long Mib = 1024 * 1024;
    private const long Headroom = 256 * Mib;
    private readonly LimitedAgent _agent;

    public RunLimitsTests(LimitedAgent agent) => _agent = agent;

    [Fact]
    public async Task AFortyByteLz4BlockClaimingGigabytesIsRefusedBeforeTheClaimIsAllocated()
    {
        // 2e9 bytes: within the agent's 2 GiB per run and one array, so only the expansion bound stands in the way.
        long[] shape = [1, 500_000_000];
        byte[] block = new byte[40];
        block[0] = 0xF0;
        (long agentBefore, long workerBefore) = _agent.ResidentBytes();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        // Four at once took a fuzzed agent from 1.4 to 5.6 GB.
        RpcException[] errors = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Assert.ThrowsAsync<RpcException>(async () =>
            await _agent.Client.RunAsync(_agent.Request(DataType.Float32, shape, block, Compression.Lz4, rawLength: 2_000_000_000), deadline: LimitedAgent.Deadline()))));

        Assert.All(errors, error =>
        {
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Equal("input 0: 40 LZ4 bytes cannot expand to the claimed 2000000000 bytes (LZ4 expands at most 255x)", error.Status.Detail);
        });
        Assert.InRange(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore, 0, Headroom);
        (long agentAfter, long workerAfter) = _agent.ResidentBytes();
        Assert.InRange(agentAfter - agentBefore, long.MinValue, Headroom);
        Assert.InRange(workerAfter - workerBefore, long.MinValue, Headroom);
        await _agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task AnLz4BlockThatCouldExpandThatFarStillRuns()
    {
        // The bound refuses only what LZ4 cannot produce: a real block of zeros expands ~250x and is taken.
        byte[] zeros = new byte[64 * 1024 * 4 * sizeof(float)];
        byte[] block = AccelBroker.Protocol.Wire.Lz4Block.TryCompress(zeros)!;
        Assert.True(zeros.Length > 200L * block.Length);
        RunRequest request = _agent.Request(DataType.Float32, [64 * 1024, 4], block, Compression.Lz4, rawLength: zeros.Length);

        // demo_mlp wants 16 features: the run reaches TorchScript, which names the shapes.
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await _agent.Client.RunAsync(request, deadline: LimitedAgent.Deadline()));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("shapes cannot be multiplied", error.Status.Detail);
    }

    [Fact]
    public async Task AZeroElementShapeWhoseStridesOverflowIsInvalidArgument()
    {
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _agent.Client.RunAsync(_agent.Request(DataType.Float32, [0, 1L << 31, 1L << 31, 1L << 31], []), deadline: LimitedAgent.Deadline()));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("input 0: invalid shape [0, 2147483648, 2147483648, 2147483648]: its element count (or a stride) overflows 64 bits", error.Status.Detail);
        await _agent.AssertStillServesAsync();
    }

    [Theory]
    [InlineData(1L << 31)]
    [InlineData((1L << 31) - 10)]
    public async Task AStreamedInputLargerThanOneArrayIsResourceExhaustedNamingTheLimit(long length)
    {
        (long agentBefore, _) = _agent.ResidentBytes();
        var spec = new TensorProto { Dtype = DataType.Uint8, RawLength = length };
        spec.Shape.Add(length);
        var request = new RunRequest { SliceId = LimitedAgent.SliceId, ModelId = _agent.ModelId };
        request.Inputs.Add(spec);

        using var call = _agent.Client.RunStream(deadline: LimitedAgent.Deadline());
        await call.RequestStream.WriteAsync(new RunStreamRequest { Header = new RunStreamHeader { Request = request } });
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal($"input 0: uint8 [{length}] needs {length} bytes, over this agent's limit of {Array.MaxLength} bytes per input", error.Status.Detail);
        Assert.InRange(_agent.ResidentBytes().Agent - agentBefore, long.MinValue, Headroom);
        await _agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task AStreamedRunOverTheAgentsLimitPerRunIsResourceExhaustedNamingIt()
    {
        var spec = new TensorProto { Dtype = DataType.Float32, RawLength = 4L << 30 };
        spec.Shape.AddRange([1L << 30]);
        var request = new RunRequest { SliceId = LimitedAgent.SliceId, ModelId = _agent.ModelId };
        request.Inputs.Add(spec);

        using var call = _agent.Client.RunStream(deadline: LimitedAgent.Deadline());
        await call.RequestStream.WriteAsync(new RunStreamRequest { Header = new RunStreamHeader { Request = request } });
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal($"inputs exceed this agent's limit of {2L << 30} bytes per run", error.Status.Detail);
        await _agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task AStreamedHeaderAnnouncingAGigabyteTakesNothingUntilItsBytesArrive()
    {
        // Within every limit: 1 GiB announced, 1 KiB sent, then the stream ends.
        var spec = new TensorProto { Dtype = DataType.Uint8, RawLength = 1L << 30 };
        spec.Shape.Add(1L << 30);
        var request = new RunRequest { SliceId = LimitedAgent.SliceId, ModelId = _agent.ModelId };
        request.Inputs.Add(spec);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        using (var call = _agent.Client.RunStream(deadline: LimitedAgent.Deadline()))
        {
            await call.RequestStream.WriteAsync(new RunStreamRequest { Header = new RunStreamHeader { Request = request } });
            await call.RequestStream.CompleteAsync();
            RpcException error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Equal($"input stream ended after 0 of {1L << 30} bytes", error.Status.Detail);
        }

        Assert.InRange(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore, 0, Headroom);
        await _agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task AStreamedRunThatStallsAfterItsHeaderIsEndedAfterTheIdleTimeoutAndReleasesItsModel()
    {
        var spec = new TensorProto { Dtype = DataType.Float32, RawLength = 64 };
        spec.Shape.AddRange([1, 16]);
        var request = new RunRequest { SliceId = LimitedAgent.SliceId, ModelId = _agent.ModelId };
        request.Inputs.Add(spec);
        var waited = System.Diagnostics.Stopwatch.StartNew();

        using var call = _agent.Client.RunStream(deadline: LimitedAgent.Deadline());
        await call.RequestStream.WriteAsync(new RunStreamRequest { Header = new RunStreamHeader { Request = request } });
        await call.RequestStream.WriteAsync(new RunStreamRequest { Chunk = ByteString.CopyFrom(new byte[16]) });
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal("no message arrived for 1 s: this agent ends a streaming call idle for longer (StreamIdleTimeout)", error.Status.Detail);
        Assert.InRange(waited.Elapsed, LimitedAgent.IdleTimeout * 0.9, TimeSpan.FromSeconds(30));
        // The run's lease on its model went with it.
        Assert.True(_agent.Slice.TryGetResident(_agent.ModelId, out AccelBroker.Agent.Execution.LoadedModel? model));
        Assert.True(model.IsIdle);
        await _agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task AStreamedRunThatNeverSendsItsHeaderIsEndedAfterTheIdleTimeout()
    {
        using var call = _agent.Client.RunStream(deadline: LimitedAgent.Deadline());

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Contains("StreamIdleTimeout", error.Status.Detail);
        await _agent.AssertStillServesAsync();
    }

    [Fact]
    public async Task AStreamedRunWhoseChunksKeepComingIsNotCutOff()
    {
        // Each message restarts the idle clock: 16 small chunks over ~2.4 s, each 150 ms apart, against a 1 s limit.
        float[] input = Fixtures.Npy("demo_mlp.input0.npy").ToSingleArray();
        byte[] bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()).ToArray();
        var spec = new TensorProto { Dtype = DataType.Float32, RawLength = bytes.Length };
        spec.Shape.AddRange([1, 16]);
        var request = new RunRequest { SliceId = LimitedAgent.SliceId, ModelId = _agent.ModelId };
        request.Inputs.Add(spec);

        using var call = _agent.Client.RunStream(deadline: LimitedAgent.Deadline());
        await call.RequestStream.WriteAsync(new RunStreamRequest { Header = new RunStreamHeader { Request = request } });
        for (int offset = 0; offset < bytes.Length; offset += 4)
        {
            await Task.Delay(150);
            await call.RequestStream.WriteAsync(new RunStreamRequest { Chunk = ByteString.CopyFrom(bytes, offset, 4) });
        }

        await call.RequestStream.CompleteAsync();

        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal([1L, 8L], call.ResponseStream.Current.Header.Response.Outputs[0].Shape);
    }
}
