using System.Security.Cryptography;
using AccelBroker.Client;
using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Protocol v1 gave every enum an <c>_UNSPECIFIED = 0</c>. A caller that leaves an enum field of a request unset
/// must get what the old zero value gave (fp32, no compression), and a value outside the enum a clear
/// InvalidArgument, on every request field that carries one.
/// </summary>
public sealed class UnspecifiedEnumTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public UnspecifiedEnumTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task ALoadThatLeavesPrecisionUnsetIsTheFp32Model()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel fp32 = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"), new ModelLoadOptions { Precision = ModelPrecision.Fp32 });

        LoadModelResponse unset = await _cluster.AgentClient.LoadModelAsync(
            new LoadModelRequest { SliceId = session.Accelerator.Id, Sha256 = fp32.Sha256 }, deadline: TestCluster.Deadline());
        LoadModelResponse explicitFp32 = await _cluster.AgentClient.LoadModelAsync(
            new LoadModelRequest { SliceId = session.Accelerator.Id, Sha256 = fp32.Sha256, Precision = Precision.Fp32 }, deadline: TestCluster.Deadline());

        Assert.Equal(fp32.ModelId, unset.ModelId);
        Assert.EndsWith("-fp32", unset.ModelId);
        Assert.False(unset.Loaded, "an unset precision loaded a second model beside the fp32 one");
        Assert.Equal(fp32.ModelId, explicitFp32.ModelId);
        ListModelsResponse models = await _cluster.AgentClient.ListModelsAsync(new ListModelsRequest { SliceId = session.Accelerator.Id }, deadline: TestCluster.Deadline());
        Assert.Equal(Precision.Fp32, Assert.Single(models.Models, m => m.ModelId == fp32.ModelId).Precision);
    }

    [Fact]
    public async Task ALoadWithAPrecisionOutsideTheEnumIsInvalidArgument()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await _cluster.AgentClient.LoadModelAsync(
            new LoadModelRequest { SliceId = session.Accelerator.Id, Sha256 = model.Sha256, Precision = (Precision)99 }, deadline: TestCluster.Deadline()));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("unknown precision 99", error.Status.Detail);
    }

    [Fact]
    public async Task ALocalBenchmarkThatLeavesPrecisionUnsetRunsAsFp32AndAnUnknownOneIsRefused()
    {
        string sha256;
        using (AcceleratorSession session = await _cluster.OpenSessionAsync())
        {
            sha256 = (await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"))).Sha256;
        }

        BenchmarkLocalResponse unset = await _cluster.AgentClient.BenchmarkLocalAsync(Benchmark(sha256, Precision.Unspecified), deadline: TestCluster.Deadline());
        BenchmarkLocalResponse fp32 = await _cluster.AgentClient.BenchmarkLocalAsync(Benchmark(sha256, Precision.Fp32), deadline: TestCluster.Deadline());
        RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _cluster.AgentClient.BenchmarkLocalAsync(Benchmark(sha256, (Precision)99), deadline: TestCluster.Deadline()));

        Assert.Equal(2, unset.LatenciesSeconds.Count);
        Assert.Equal(fp32.Device, unset.Device);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("unknown precision 99", error.Status.Detail);
    }

    [Theory]
    [InlineData(Compression.Unspecified)]
    [InlineData(Compression.None)]
    public async Task RunInputsWhoseCompressionIsUnsetOrNoneAreTakenAsTheyAre(Compression compression)
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        var request = new RunRequest { SliceId = session.Accelerator.Id, ModelId = model.ModelId };
        TensorProto input = WireConversion.ToProto(Fixtures.Npy("demo_mlp.input0.npy"), compress: false);
        input.Compression = compression;
        request.Inputs.Add(input);

        RunResponse response = await _cluster.AgentClient.RunAsync(request, deadline: TestCluster.Deadline());

        Assert.Equal(Protocol.V1.OutputKind.Tensor, response.Kind);
        Assert.Equal(Fixtures.Npy("demo_mlp.output0.npy").ToSingleArray(), WireConversion.FromProto(Assert.Single(response.Outputs)).ToSingleArray(), new ToleranceComparer(1e-4f));
    }

    [Fact]
    public async Task ARunInputWithACompressionOutsideTheEnumIsInvalidArgument()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        var request = new RunRequest { SliceId = session.Accelerator.Id, ModelId = model.ModelId };
        TensorProto input = WireConversion.ToProto(Fixtures.Npy("demo_mlp.input0.npy"), compress: false);
        input.Compression = (Compression)99;
        request.Inputs.Add(input);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await _cluster.AgentClient.RunAsync(request, deadline: TestCluster.Deadline()));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("input 0: unknown compression 99", error.Status.Detail);
    }

    [Theory]
    [InlineData(Compression.Unspecified, null)]
    [InlineData(Compression.None, null)]
    [InlineData(Compression.Lz4, "input 0: compression is not supported on the streaming call")]
    [InlineData((Compression)99, "input 0: compression is not supported on the streaming call")]
    public async Task AStreamedRunTakesInputsWhoseCompressionIsUnsetOrNoneAndRefusesTheRest(Compression compression, string? refusal)
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        Tensor tensor = Fixtures.Npy("demo_mlp.input0.npy");
        var request = new RunRequest { SliceId = session.Accelerator.Id, ModelId = model.ModelId };
        TensorProto spec = WireConversion.ToProto(tensor, compress: false, includeData: false);
        spec.Compression = compression;
        request.Inputs.Add(spec);

        using var call = _cluster.AgentClient.RunStream(_cluster.SliceHeaders(session.Accelerator.Id), deadline: TestCluster.Deadline());
        await call.RequestStream.WriteAsync(new RunStreamRequest { Header = new RunStreamHeader { Request = request } });
        await call.RequestStream.WriteAsync(new RunStreamRequest { Chunk = ByteString.CopyFrom(tensor.Data.Span) });
        await call.RequestStream.CompleteAsync();

        if (refusal is not null)
        {
            RpcException error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Equal(refusal, error.Status.Detail);
            return;
        }

        Assert.True(await call.ResponseStream.MoveNext());
        // The header is the run's response without the outputs' bytes, which follow in chunks.
        RunResponse header = call.ResponseStream.Current.Header.Response;
        Assert.Equal(Protocol.V1.OutputKind.Tensor, header.Kind);
        Assert.False(string.IsNullOrEmpty(header.Device));
        TensorProto output = Assert.Single(header.Outputs);
        Assert.True(output.Data.IsEmpty);
        long received = 0;
        while (await call.ResponseStream.MoveNext())
        {
            received += call.ResponseStream.Current.Chunk.Length;
        }

        Assert.Equal(output.RawLength, received);
    }

    [Theory]
    [InlineData(Compression.Unspecified)]
    [InlineData(Compression.None)]
    public async Task UploadChunksWhoseCompressionIsUnsetOrNoneAreStoredAsTheyAre(Compression compression)
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(4096);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));

        UploadModelResponse response = await UploadAsync(bytes, sha256, compression);

        Assert.True(response.Stored);
        HasModelResponse held = await _cluster.AgentClient.HasModelAsync(new HasModelRequest { Sha256 = sha256 }, deadline: TestCluster.Deadline());
        Assert.True(held.Held);
        Assert.Equal(bytes.Length, held.Length);
    }

    [Fact]
    public async Task AnUploadChunkWithACompressionOutsideTheEnumIsInvalidArgument()
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(4096);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => UploadAsync(bytes, sha256, (Compression)99));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("unknown chunk compression 99", error.Status.Detail);
        Assert.False((await _cluster.AgentClient.HasModelAsync(new HasModelRequest { Sha256 = sha256 }, deadline: TestCluster.Deadline())).Held);
    }

    private async Task<UploadModelResponse> UploadAsync(byte[] bytes, string sha256, Compression compression)
    {
        using var call = _cluster.AgentClient.UploadModel(deadline: TestCluster.Deadline());
        await call.RequestStream.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = sha256, Length = bytes.Length, Compression = compression } });
        await call.RequestStream.WriteAsync(new UploadModelRequest { Chunk = new ModelChunk { RawLength = bytes.Length, Compression = compression, Data = ByteString.CopyFrom(bytes) } });
        await call.RequestStream.CompleteAsync();
        return await call;
    }

    private static BenchmarkLocalRequest Benchmark(string sha256, Precision precision)
    {
        var request = new BenchmarkLocalRequest { Sha256 = sha256, Precision = precision, Iterations = 2 };
        request.Inputs.Add(WireConversion.ToProto(Fixtures.Npy("demo_mlp.input0.npy"), compress: false));
        return request;
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
