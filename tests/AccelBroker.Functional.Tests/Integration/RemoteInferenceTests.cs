using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using TorchSharp;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>Remote runs through broker, agent and session equal in-process TorchSharp runs of the same model.</summary>
public sealed class RemoteInferenceTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public RemoteInferenceTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    public static TheoryData<string, string[], OutputKind> Fp32Models => new()
    {
        { "demo_mlp.pt", ["demo_mlp.input0.npy"], OutputKind.Tensor },
        { "control_flow.pt", ["control_flow.input0.npy"], OutputKind.Tensor },
        { "control_flow.pt", ["control_flow_neg.input0.npy"], OutputKind.Tensor },
        { "two_in_tuple_out.pt", ["two_in_tuple_out.input0.npy", "two_in_tuple_out.input1.npy"], OutputKind.Tuple },
        { "token_ids.pt", ["token_ids.input0.npy"], OutputKind.Tensor },
        { "list_out.pt", ["list_out.input0.npy"], OutputKind.List },
        // Outputs that are the input itself (its lane in the worker), non-contiguous views of it, one tensor twice.
        { "aliasing.pt", ["aliasing.input0.npy"], OutputKind.Tuple },
    };

    [Theory]
    [MemberData(nameof(Fp32Models))]
    public async Task Fp32OutputsEqualInProcessTorchSharpExactly(string model, string[] inputFiles, OutputKind kind)
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        Tensor[] inputs = inputFiles.Select(Fixtures.Npy).ToArray();
        RemoteModel remote = await session.LoadModelAsync(Fixtures.Path(model));

        ModelOutput output = await session.RunAsync(remote, inputs);

        Tensor[] expected = LocalTorch.Run(Fixtures.Path(model), null, inputs);
        Assert.Equal(kind, output.Kind);
        Assert.Equal("cpu", output.Device);
        Assert.Equal(expected.Length, output.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].DataType, output[i].DataType);
            Assert.Equal(expected[i].Shape, output[i].Shape);
            Assert.True(expected[i].Data.Span.SequenceEqual(output[i].Data.Span), $"output {i} differs from in-process TorchSharp");
        }
    }

    [Theory]
    [InlineData("demo_mlp", 1)]
    [InlineData("two_in_tuple_out", 2)]
    [InlineData("list_out", 3)]
    [InlineData("aliasing", 5)]
    public async Task OutputsMatchWhatPyTorchProduced(string model, int outputs)
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel remote = await session.LoadModelAsync(Fixtures.Path(model + ".pt"));
        Tensor[] inputs = Enumerable.Range(0, model == "two_in_tuple_out" ? 2 : 1).Select(i => Fixtures.Npy($"{model}.input{i}.npy")).ToArray();

        ModelOutput output = await session.RunAsync(remote, inputs);

        Assert.Equal(outputs, output.Count);
        for (int i = 0; i < outputs; i++)
        {
            float[] expected = Fixtures.Npy($"{model}.output{i}.npy").ToSingleArray();
            float[] actual = output[i].ToSingleArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int j = 0; j < expected.Length; j++)
            {
                Assert.True(Math.Abs(expected[j] - actual[j]) <= 1e-6 + (1e-5 * Math.Abs(expected[j])), $"output {i}[{j}]: {actual[j]} vs PyTorch {expected[j]}");
            }
        }
    }

    [Theory]
    [InlineData(TensorDataType.Float32)]
    [InlineData(TensorDataType.Float64)]
    [InlineData(TensorDataType.Float16)]
    [InlineData(TensorDataType.BFloat16)]
    [InlineData(TensorDataType.Int64)]
    [InlineData(TensorDataType.Int32)]
    [InlineData(TensorDataType.Int16)]
    [InlineData(TensorDataType.Int8)]
    [InlineData(TensorDataType.UInt8)]
    [InlineData(TensorDataType.Bool)]
    public async Task EveryDtypeRoundTripsThroughAModel(TensorDataType dataType)
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync(new AcceleratorSessionOptions { NativeOutputDtype = true });
        RemoteModel identity = await session.LoadModelAsync(Fixtures.Path("identity.pt"));
        byte[] bytes = new byte[3 * 5 * dataType.GetElementSize()];
        new Random(7).NextBytes(bytes);
        if (dataType == TensorDataType.Bool)
        {
            bytes = bytes.Select(b => (byte)(b & 1)).ToArray();
        }
        else if (dataType is TensorDataType.Float16 or TensorDataType.BFloat16 or TensorDataType.Float32 or TensorDataType.Float64)
        {
            // Random bit patterns include NaNs, whose payload a copy may not keep: use real numbers.
            bytes = Tensor.FromArray(Enumerable.Range(0, 15).Select(i => (float)(i * 0.37 - 2)).ToArray(), 3, 5).ToFloatBytes(dataType);
        }

        var input = new Tensor(dataType, [3, 5], bytes);
        ModelOutput output = await session.RunAsync(identity, [input]);

        Assert.Equal(dataType, output[0].DataType);
        Assert.Equal(new long[] { 3, 5 }, output[0].Shape);
        Assert.Equal(bytes, output[0].Data.ToArray());
    }

    [Fact]
    public async Task A64MegabyteTensorRoundTripsIntact()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        RemoteModel identity = await session.LoadModelAsync(Fixtures.Path("identity.pt"));
        float[] values = new float[16 * 1024 * 1024];
        var random = new Random(11);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextDouble();
        }

        Tensor input = Tensor.FromArray(values, 16, 1024, 1024);
        ModelOutput output = await session.RunAsync(identity, [input]);

        Assert.Equal(new long[] { 16, 1024, 1024 }, output[0].Shape);
        Assert.True(input.Data.Span.SequenceEqual(output[0].Data.Span));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    [InlineData(5 * 1024 * 1024 + 3)]
    public async Task EchoStreamReturnsTheSameBytesInOrder(int length)
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        byte[] payload = new byte[length];
        new Random(length).NextBytes(payload);

        ReadOnlyMemory<byte> echoed = await session.EchoStreamAsync(payload);

        Assert.True(echoed.Span.SequenceEqual(payload));
    }

    [Fact]
    public async Task EchoReturnsThePayload()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        byte[] payload = [1, 2, 3, 250];

        ReadOnlyMemory<byte> echoed = await session.EchoAsync(payload);

        Assert.Equal(payload, echoed.ToArray());
    }

    [Fact]
    public async Task CompressedTensorsRoundTrip()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync(new AcceleratorSessionOptions { Compression = true });
        RemoteModel identity = await session.LoadModelAsync(Fixtures.Path("identity.pt"));
        // Zeros compress, so both directions take the LZ4 path.
        Tensor input = Tensor.Zeros(TensorDataType.Float32, 256, 256);

        ModelOutput output = await session.RunAsync(identity, [input]);

        Assert.True(input.Data.Span.SequenceEqual(output[0].Data.Span));
    }

    [Theory]
    [InlineData(ModelPrecision.Fp16, 2e-2)]
    [InlineData(ModelPrecision.Bf16, 1e-1)]
    public async Task ReducedPrecisionIsCloseToFp32AndComesBackAsFloat32(ModelPrecision precision, double tolerance)
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        RemoteModel remote = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"), new ModelLoadOptions { Precision = precision });

        ModelOutput output = await session.RunAsync(remote, [input]);

        Assert.Equal(TensorDataType.Float32, output[0].DataType);
        float[] fp32 = LocalTorch.Run(Fixtures.Path("demo_mlp.pt"), null, input)[0].ToSingleArray();
        float[] reduced = output[0].ToSingleArray();
        float[] sameCast = LocalTorch.Run(Fixtures.Path("demo_mlp.pt"), precision == ModelPrecision.Fp16 ? torch.ScalarType.Float16 : torch.ScalarType.BFloat16, input)[0].ToSingleArray();
        Assert.Equal(sameCast, reduced);
        for (int i = 0; i < fp32.Length; i++)
        {
            Assert.True(Math.Abs(fp32[i] - reduced[i]) <= tolerance, $"[{i}] {reduced[i]} vs fp32 {fp32[i]}");
        }
    }

    [Fact]
    public async Task NativeOutputDtypeKeepsFloat16()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync(new AcceleratorSessionOptions { NativeOutputDtype = true });
        RemoteModel remote = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"), new ModelLoadOptions { Precision = ModelPrecision.Fp16 });

        ModelOutput output = await session.RunAsync(remote, [Fixtures.Npy("demo_mlp.input0.npy")]);

        Assert.Equal(TensorDataType.Float16, output[0].DataType);
    }

    [Fact]
    public async Task BytesUploadedThroughASliceAreNeverSentAgainThroughItButAnotherTenantMustSendThemItself()
    {
        byte[] bytes = await File.ReadAllBytesAsync(Fixtures.Path("control_flow.pt"));
        string host = "held-" + Guid.NewGuid().ToString("N")[..8];
        var attached = await _cluster.AttachAsync(host, TestCluster.TinySlice);
        using AcceleratorSession first = await _cluster.OpenSessionAsync(host, attached.Ordinal);
        using AcceleratorSession second = await _cluster.OpenSessionAsync(host, attached.Ordinal);
        using AcceleratorSession otherTenant = await _cluster.OpenSessionAsync();

        RemoteModel a = await first.LoadModelAsync(bytes);
        RemoteModel b = await second.LoadModelAsync(bytes);
        RemoteModel c = await second.LoadModelAsync(bytes);
        // The agent holds the bytes already, but the other slice must not learn that: it uploads them as if new.
        RemoteModel d = await otherTenant.LoadModelAsync(bytes);

        Assert.True(a.Uploaded);
        Assert.False(b.Uploaded);
        Assert.False(c.Uploaded);
        Assert.True(d.Uploaded);
        Assert.Equal(a.Sha256, b.Sha256);
        Assert.Equal(b.ModelId, c.ModelId);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), a.Sha256);
    }

    [Fact]
    public async Task WarmUpRunsAtLoadAndManyConcurrentRunsShareASession()
    {
        using AcceleratorSession session = await _cluster.OpenSessionAsync();
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        RemoteModel remote = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"), new ModelLoadOptions { WarmupInputs = [(TensorDataType.Float32, [1, 16])] });
        byte[] expected = LocalTorch.Run(Fixtures.Path("demo_mlp.pt"), null, input)[0].Data.ToArray();

        ModelOutput[] outputs = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => session.RunAsync(remote, [input])));

        Assert.All(outputs, o => Assert.Equal(expected, o[0].Data.ToArray()));
    }
}
