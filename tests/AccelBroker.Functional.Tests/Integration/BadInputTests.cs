using System.Security.Cryptography;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>Each bad input gets a clear status, leaves nothing half-done, and the agent keeps serving.</summary>
public sealed class BadInputTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public BadInputTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    public static TheoryData<string> BrokenModels => new() { "corrupt", "truncated", "not-torchscript" };

    [Theory]
    [MemberData(nameof(BrokenModels))]
    public async Task BrokenModelBytesAreInvalidArgumentWithTorchScriptsReason(string kind)
    {
        byte[] good = await File.ReadAllBytesAsync(Fixtures.Path("demo_mlp.pt"));
        byte[] bad = kind switch
        {
            "corrupt" => good.Select((b, i) => i >= good.Length - 200 ? (byte)0xAB : b).ToArray(),
            "truncated" => good[..(good.Length / 2)],
            _ => await File.ReadAllBytesAsync(Fixtures.Path("demo_mlp.input0.npy")),
        };
        using AcceleratorSession session = await _cluster.OpenSessionAsync();

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => session.LoadModelAsync(bad));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        // libtorch names its zip reader: "PytorchStreamReader failed …" or, for a cut-off file, "istream reader failed …".
        Assert.Contains("reader failed", error.Status.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("not a loadable TorchScript model: ", error.Status.Detail);
        await AssertStillServesAsync(session);
    }

    [Fact]
    public async Task WrongInputCountIsInvalidArgumentWithTorchScriptsMessage()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("two_in_tuple_out.pt"));

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(model, [Fixtures.Npy("two_in_tuple_out.input0.npy")]));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("forward", error.Status.Detail);
        await AssertStillServesAsync(session);
    }

    [Fact]
    public async Task WrongShapeIsInvalidArgumentWithTorchScriptsMessage()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(model, [Tensor.Zeros(TensorDataType.Float32, 1, 15)]));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("shapes cannot be multiplied", error.Status.Detail);
        await AssertStillServesAsync(session);
    }

    [Fact]
    public async Task WrongDtypeIsInvalidArgumentWithTorchScriptsMessage()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(model, [Tensor.Zeros(TensorDataType.Int64, 1, 16)]));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("dtype", error.Status.Detail, StringComparison.OrdinalIgnoreCase);
        await AssertStillServesAsync(session);
    }

    [Fact]
    public async Task ByteLengthNotMatchingShapeIsRejectedBeforeTorch()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        var request = new RunRequest { SliceId = session.Accelerator.Id, ModelId = model.ModelId };
        var input = new TensorProto { Dtype = DataType.Float32, Data = ByteString.CopyFrom(new byte[60]) };
        input.Shape.AddRange([1, 16]);
        request.Inputs.Add(input);

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await _cluster.AgentClient.RunAsync(request, deadline: TestCluster.Deadline()));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("input 0: 60 bytes but float32 [1, 16] needs 64 bytes", error.Status.Detail);
        await AssertStillServesAsync(session);
    }

    [Fact]
    public async Task UnknownModelIsNotFound()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        var request = new RunRequest { SliceId = session.Accelerator.Id, ModelId = "0123456789abcdef-fp32" };

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await _cluster.AgentClient.RunAsync(request, deadline: TestCluster.Deadline()));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("unknown model '0123456789abcdef-fp32'", error.Status.Detail);
    }

    [Fact]
    public async Task AStreamingRunRefusedBeforeItsInputsAreReadReportsTheAgentsStatusNotItsCutOffWrite()
    {
        // Two sessions on one slice: one unloads the model the other still holds a handle to.
        string host = "host-" + Guid.NewGuid().ToString("N")[..8];
        Accelerator accelerator = await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await using AcceleratorSession holder = await _cluster.OpenSessionAsync(host, accelerator.Ordinal);
        await using AcceleratorSession other = await _cluster.OpenSessionAsync(host, accelerator.Ordinal);
        RemoteModel held = await holder.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        await other.UnloadModelAsync(await other.LoadModelAsync(Fixtures.Path("demo_mlp.pt")));

        // 8 MiB streams in chunks, far past HTTP/2's flow-control window: the agent refuses at the header, while the
        // client is still writing, so its write is cut off before it has read the agent's status.
        Tensor large = Tensor.Zeros(TensorDataType.Float32, 131_072, 16);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            RpcException error = await Assert.ThrowsAsync<RpcException>(() => holder.RunAsync(held, [large]));

            Assert.True(error.StatusCode == StatusCode.NotFound, error.ToString());
            Assert.Contains($"unknown model '{held.ModelId}'", error.Status.Detail);
        }

        await AssertStillServesAsync(holder);
    }

    [Fact]
    public async Task UnknownOrdinalIsNotFoundNamingTheHostsOrdinals()
    {
        string host = "ordinals-" + Guid.NewGuid().ToString("N")[..8];
        await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await _cluster.AttachAsync(host, TestCluster.TinySlice);

        RpcException error = await Assert.ThrowsAsync<RpcException>(() =>
            AcceleratorSession.OpenAsync(new AcceleratorSessionOptions { Broker = _cluster.BrokerUrl, Host = host, Ordinal = 5, HostCredential = _cluster.AdminKey }));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("0, 1", error.Status.Detail);
    }

    [Fact]
    public async Task UnknownSliceTypeIsInvalidArgumentListingTheKnownOnes()
    {
        RpcException error = await Assert.ThrowsAsync<RpcException>(() => _cluster.AttachAsync("h", "eia9.huge"));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("eia2.medium, eia2.large, eia2.xlarge", error.Status.Detail);
    }

    [Fact]
    public async Task AnUploadWhoseHashDoesNotMatchIsRejectedAndNothingIsKept()
    {
        byte[] bytes = await File.ReadAllBytesAsync(Fixtures.Path("identity.pt"));
        string claimed = Convert.ToHexStringLower(SHA256.HashData([1, 2, 3]));
        using var call = _cluster.AgentClient.UploadModel(deadline: TestCluster.Deadline());
        await call.RequestStream.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = claimed, Length = bytes.Length } });
        await call.RequestStream.WriteAsync(new UploadModelRequest { Chunk = new ModelChunk { RawLength = bytes.Length, Data = ByteString.CopyFrom(bytes) } });
        await call.RequestStream.CompleteAsync();

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await call);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("SHA-256 mismatch", error.Status.Detail);
        HasModelResponse held = await _cluster.AgentClient.HasModelAsync(new HasModelRequest { Sha256 = claimed });
        Assert.False(held.Held);
        Assert.Empty(Directory.GetFiles(_cluster.DataDirectory, "*.partial"));
    }

    [Fact]
    public async Task ABrokenUploadStreamLeavesNothingBehind()
    {
        byte[] bytes = new byte[3 * 1024 * 1024];
        new Random(3).NextBytes(bytes);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using (var cancel = new CancellationTokenSource())
        {
            using var call = _cluster.AgentClient.UploadModel(deadline: TestCluster.Deadline(), cancellationToken: cancel.Token);
            await call.RequestStream.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = sha256, Length = bytes.Length } });
            await call.RequestStream.WriteAsync(new UploadModelRequest { Chunk = new ModelChunk { RawLength = 1024 * 1024, Data = ByteString.CopyFrom(bytes, 0, 1024 * 1024) } });
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<Exception>(async () => await call);
        }

        // The agent notices the reset asynchronously; give it a bounded moment.
        for (int i = 0; i < 100 && Directory.GetFiles(_cluster.DataDirectory, "*.partial").Length > 0; i++)
        {
            await Task.Delay(20);
        }

        Assert.Empty(Directory.GetFiles(_cluster.DataDirectory, "*.partial"));
        Assert.False((await _cluster.AgentClient.HasModelAsync(new HasModelRequest { Sha256 = sha256 })).Held);
    }

    [Fact]
    public async Task AnUploadLongerThanAnnouncedIsRejected()
    {
        byte[] bytes = await File.ReadAllBytesAsync(Fixtures.Path("identity.pt"));
        using var call = _cluster.AgentClient.UploadModel(deadline: TestCluster.Deadline());
        await call.RequestStream.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), Length = 10 } });
        await call.RequestStream.WriteAsync(new UploadModelRequest { Chunk = new ModelChunk { RawLength = bytes.Length, Data = ByteString.CopyFrom(bytes) } });
        await call.RequestStream.CompleteAsync();

        RpcException error = await Assert.ThrowsAsync<RpcException>(async () => await call);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("exceeds the announced length", error.Status.Detail);
    }

    private static async Task AssertStillServesAsync(AcceleratorSession session)
    {
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        ModelOutput output = await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);
        Assert.Equal(Fixtures.Npy("demo_mlp.output0.npy").ToSingleArray().Length, output[0].ToSingleArray().Length);
    }
}
