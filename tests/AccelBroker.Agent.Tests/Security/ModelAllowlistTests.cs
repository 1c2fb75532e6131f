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

namespace AccelBroker.Tests.Security;

/// <summary>
/// A real agent on loopback, its slices assigned as the broker assigns them: a slice's allowlist refuses other bytes
/// before any worker sees them, and a narrower list unloads what it no longer holds.
/// </summary>
public sealed class ModelAllowlistTests : IAsyncLifetime
{
    private const string Pinned = "acc-00000000000000000000000000000pinned";
    private const string Open = "acc-000000000000000000000000000000open";
    private const string AgentId = "allowlist-agent";

    private readonly TestTokenIssuer _issuer = new();
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "accelbroker-allow-" + Guid.NewGuid().ToString("N"));
    private WebApplication _agent = null!;
    private GrpcChannel _channel = null!;
    private InferenceAgent.InferenceAgentClient _client = null!;
    private AgentControl.AgentControlClient _control = null!;
    private string _demo = "";
    private string _identity = "";
    private string _garbage = "";

    public async Task InitializeAsync()
    {
        _agent = AgentHost.Build(
            new AgentOptions { Listen = "http://127.0.0.1:0", DataDirectory = _dataDir, MemoryBytes = 4L << 30, AgentId = AgentId },
            logging => logging.SetMinimumLevel(LogLevel.Warning).AddSuiteScan());
        await _agent.StartAsync();
        // No broker: the agent trusts this test's key, and every call carries the token the broker would have given.
        _channel = GrpcChannel.ForAddress(_agent.Urls.First());
        CallInvoker invoker = _issuer.TrustedBy(_agent.Services, _channel, AgentId);
        _client = new InferenceAgent.InferenceAgentClient(invoker);
        _control = new AgentControl.AgentControlClient(invoker);
        _demo = await StoreAsync(await File.ReadAllBytesAsync(Fixtures.Path("demo_mlp.pt")));
        _identity = await StoreAsync(await File.ReadAllBytesAsync(Fixtures.Path("identity.pt")));
        // Not TorchScript at all: were it loaded, the worker would refuse it with InvalidArgument.
        _garbage = await StoreAsync([.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))]);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        _issuer.Dispose();
        await _agent.StopAsync();
        await _agent.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task BytesOffTheAllowlistArePermissionDeniedBeforeAnyWorkerSeesThem()
    {
        await AssignAsync(Pinned, Allow(_demo));
        await AssignAsync(Open, allowlist: null);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => LoadAsync(Pinned, _garbage));
        // Upper case names the same bytes, and is refused the same way.
        RpcException upper = await Assert.ThrowsAsync<RpcException>(() => LoadAsync(Pinned, _garbage.ToUpperInvariant()));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal($"model {_garbage} is not on the allowlist of host app-1's accelerator 0", refused.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied, upper.StatusCode);
        // Slices' workers start when the slice is assigned, so what counts is that no load reached one.
        Assert.Equal(0, Slice(Pinned).Loads);

        // The same bytes through an unrestricted slice do reach a worker, which refuses them as not TorchScript.
        RpcException loaded = await Assert.ThrowsAsync<RpcException>(() => LoadAsync(Open, _garbage));
        Assert.Equal(StatusCode.InvalidArgument, loaded.StatusCode);

        LoadModelResponse allowed = await LoadAsync(Pinned, _demo);
        Assert.True(allowed.Loaded);
        Assert.Equal(1, Slice(Pinned).Loads);
        await AssertRunsDemoAsync(Pinned, allowed.ModelId);
    }

    [Fact]
    public async Task AnEmptyAllowlistAllowsNothing()
    {
        await AssignAsync(Pinned, Allow());

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => LoadAsync(Pinned, _demo));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal(0, Slice(Pinned).Loads);
    }

    [Fact]
    public async Task NarrowingUnloadsWhatTheListNoLongerHoldsAndWideningOrClearingLetsItLoad()
    {
        await AssignAsync(Pinned, Allow(_demo, _identity));
        string demo = (await LoadAsync(Pinned, _demo)).ModelId;
        string identity = (await LoadAsync(Pinned, _identity)).ModelId;

        // The broker's SetAllowedModels: AssignSlice again, same slice and type, another list.
        await AssignAsync(Pinned, Allow(_demo));

        Assert.Equal([demo], (await ListAsync(Pinned)).Select(m => m.ModelId));
        RpcException run = await Assert.ThrowsAsync<RpcException>(async () =>
            await _client.RunAsync(new RunRequest { SliceId = Pinned, ModelId = identity }, deadline: Deadline()));
        Assert.Equal(StatusCode.NotFound, run.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => LoadAsync(Pinned, _identity))).StatusCode);
        await AssertRunsDemoAsync(Pinned, demo);

        await AssignAsync(Pinned, Allow(_identity, _demo));
        Assert.True((await LoadAsync(Pinned, _identity)).Loaded);

        await AssignAsync(Pinned, Allow());
        Assert.Empty(await ListAsync(Pinned));

        await AssignAsync(Pinned, allowlist: null);
        Assert.True((await LoadAsync(Pinned, _demo)).Loaded);
        Assert.Null(Slice(Pinned).Allowlist);
    }

    [Fact]
    public async Task AHeartbeatListNarrowsAHeldSliceAsTheDirectCallDoes()
    {
        await AssignAsync(Pinned, allowlist: null);
        string identity = (await LoadAsync(Pinned, _identity)).ModelId;

        SliceRegistry registry = _agent.Services.GetRequiredService<SliceRegistry>();
        registry.Reconcile([Assignment(Pinned, Allow(_demo))]);

        Assert.Empty(await ListAsync(Pinned));
        Assert.Equal([_demo], Slice(Pinned).Allowlist!);
        Assert.DoesNotContain(identity, (await ListAsync(Pinned)).Select(m => m.ModelId));
    }

    private static ModelAllowlist Allow(params string[] hashes)
    {
        var allowlist = new ModelAllowlist();
        allowlist.Sha256.AddRange(hashes);
        return allowlist;
    }

    private static SliceAssignment Assignment(string sliceId, ModelAllowlist? allowlist) =>
        new() { SliceId = sliceId, SliceType = "eia2.medium", MemoryBytes = 1L << 30, ComputeShare = 0.25, Host = "app-1", Ordinal = sliceId == Pinned ? 0 : 1, Allowlist = allowlist };

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(60);

    private async Task AssignAsync(string sliceId, ModelAllowlist? allowlist)
    {
        await _control.AssignSliceAsync(new AssignSliceRequest { Slice = Assignment(sliceId, allowlist) }, deadline: Deadline());
        // As uploads through the slice would: the slice may then name these bytes (its allowlist decides whether it may load them).
        foreach (string sha256 in (string[])[_demo, _identity, _garbage])
        {
            Slice(sliceId).Uploaded(sha256);
        }
    }

    private async Task<LoadModelResponse> LoadAsync(string sliceId, string sha256) =>
        await _client.LoadModelAsync(new LoadModelRequest { SliceId = sliceId, Sha256 = sha256 }, deadline: Deadline());

    private async Task<IReadOnlyList<SliceModel>> ListAsync(string sliceId) =>
        (await _client.ListModelsAsync(new ListModelsRequest { SliceId = sliceId }, deadline: Deadline())).Models;

    private AcceleratorSlice Slice(string sliceId) => _agent.Services.GetRequiredService<SliceRegistry>().Get(sliceId);

    private async Task<string> StoreAsync(byte[] bytes)
    {
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using ModelUpload upload = _agent.Services.GetRequiredService<ModelStore>().BeginUpload(sha256, bytes.Length);
        await upload.AppendAsync(bytes, CancellationToken.None);
        await upload.CompleteAsync(CancellationToken.None);
        return sha256;
    }

    private async Task AssertRunsDemoAsync(string sliceId, string modelId)
    {
        float[] values = Fixtures.Npy("demo_mlp.input0.npy").ToSingleArray();
        var input = new TensorProto
        {
            Dtype = DataType.Float32,
            Data = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())),
            RawLength = values.Length * sizeof(float),
        };
        input.Shape.AddRange([1, 16]);
        var request = new RunRequest { SliceId = sliceId, ModelId = modelId };
        request.Inputs.Add(input);

        RunResponse response = await _client.RunAsync(request, deadline: Deadline());

        Assert.Equal([1L, 8L], response.Outputs[0].Shape);
    }
}
