using AccelBroker.Tests.Logging;
using System.Security.Cryptography;
using AccelBroker.Agent;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Slices;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Tokens;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AccelBroker.Tests.Limits;

/// <summary>
/// A real standalone agent on loopback with the limits a test sets, one slice assigned the way the broker assigns it,
/// and demo_mlp loaded on it: hostile requests go to it over gRPC, as a client's would.
/// </summary>
public sealed class LimitedAgent : IAsyncLifetime
{
    public const string SliceId = "acc-0000000000000000000000000000limits";
    public const string AgentId = "limits-agent";
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(1);

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "accelbroker-limits-" + Guid.NewGuid().ToString("N"));
    private WebApplication _agent = null!;
    private GrpcChannel _channel = null!;

    public InferenceAgent.InferenceAgentClient Client { get; private set; } = null!;

    /// <summary>Signs tokens the agent trusts.</summary>
    public TestTokenIssuer Issuer { get; } = new();

    public string ModelId { get; private set; } = null!;

    public string Sha256 { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _agent = AgentHost.Build(new AgentOptions
        {
            Listen = "http://127.0.0.1:0",
            DataDirectory = _dataDir,
            MemoryBytes = 4L << 30,
            StreamIdleTimeout = IdleTimeout,
            AgentId = AgentId,
        },
        logging => logging.SetMinimumLevel(LogLevel.Warning).AddSuiteScan());
        await _agent.StartAsync();
        // No broker: the agent trusts this test's key, and every raw call carries the token it needs.
        _channel = GrpcChannel.ForAddress(_agent.Urls.First());
        CallInvoker invoker = Issuer.TrustedBy(_agent.Services, _channel, AgentId, defaultSlice: SliceId);
        Client = new InferenceAgent.InferenceAgentClient(invoker);
        await new AgentControl.AgentControlClient(invoker).AssignSliceAsync(new AssignSliceRequest
        {
            Slice = new SliceAssignment { SliceId = SliceId, SliceType = "eia2.medium", MemoryBytes = 2L << 30, ComputeShare = 0.5, Host = "limits", Ordinal = 0 },
        });

        Sha256 = await StoreAsync(await File.ReadAllBytesAsync(Fixtures.Path("demo_mlp.pt")));
        ModelId = (await Client.LoadModelAsync(new LoadModelRequest { SliceId = SliceId, Sha256 = Sha256 }, deadline: Deadline())).ModelId;
    }

    /// <summary>Puts bytes in the agent's store (the upload path has its own tests) and returns their SHA-256.</summary>
    public async Task<string> StoreAsync(byte[] bytes)
    {
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using ModelUpload upload = _agent.Services.GetRequiredService<ModelStore>().BeginUpload(sha256, bytes.Length);
        await upload.AppendAsync(bytes, CancellationToken.None);
        await upload.CompleteAsync(CancellationToken.None);
        // As an upload through the slice would: the slice may then load the bytes.
        Slice.Uploaded(sha256);
        return sha256;
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        Issuer.Dispose();
        await _agent.StopAsync();
        await _agent.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    public static DateTime Deadline() => DateTime.UtcNow.AddSeconds(60);

    internal AcceleratorSlice Slice => _agent.Services.GetRequiredService<SliceRegistry>().Get(SliceId);

    /// <summary>Resident memory of this process (where the agent's gRPC front decodes requests) and of the slice's worker.</summary>
    public (long Agent, long Worker) ResidentBytes()
    {
        long agent = ProcStatus.Read(Environment.ProcessId, "VmRSS:") ?? throw new InvalidOperationException("no /proc/self/status");
        WorkerProcess worker = _agent.Services.GetRequiredService<SliceWorkers>().TryGet(SliceId, out SliceWorker? keeper) && keeper.Current is { } current
            ? current
            : throw new InvalidOperationException("the slice has no worker");
        return (agent, worker.ResidentBytes() ?? throw new InvalidOperationException("no worker RSS"));
    }

    public RunRequest Request(DataType dtype, long[] shape, byte[] data, Compression compression = Compression.None, long? rawLength = null)
    {
        var input = new TensorProto { Dtype = dtype, Data = ByteString.CopyFrom(data), Compression = compression, RawLength = rawLength ?? data.Length };
        input.Shape.AddRange(shape);
        var request = new RunRequest { SliceId = SliceId, ModelId = ModelId };
        request.Inputs.Add(input);
        return request;
    }

    /// <summary>A normal run of demo_mlp answers its expected output.</summary>
    public async Task AssertStillServesAsync()
    {
        float[] input = Fixtures.Npy("demo_mlp.input0.npy").ToSingleArray();
        RunResponse response = await Client.RunAsync(Request(DataType.Float32, [1, 16], MemoryMarshalBytes(input)), deadline: Deadline());
        Assert.Equal([1L, 8L], response.Outputs[0].Shape);
        float[] expected = Fixtures.Npy("demo_mlp.output0.npy").ToSingleArray();
        float[] actual = AsSingles(response.Outputs[0].Data.Span);
        Assert.Equal(expected.Length, actual.Length);
        Assert.All(expected.Zip(actual), pair => Assert.Equal(pair.First, pair.Second, 1e-4f));
    }

    private static byte[] MemoryMarshalBytes(float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static float[] AsSingles(ReadOnlySpan<byte> bytes) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
}
