using System.Security.Cryptography;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Model allowlists end to end on a real broker and agent: an application's session loads what its host's accelerator
/// is pinned to and nothing else, and an operator's change takes effect without re-attaching.
/// </summary>
public sealed class ModelAllowlistTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task ASessionLoadsOnlyWhatItsHostIsPinnedToAndTheOperatorsChangesTakeEffectAtOnce()
    {
        string identity = Sha256Of("identity.pt");
        string demo = Sha256Of("demo_mlp.pt");
        string host = NewHost();
        using FleetClient fleet = Fleet(_cluster.AdminKey);
        var attach = new AttachRequest { Host = host, SliceType = TestCluster.TinySlice, Allowlist = new ModelAllowlist() };
        attach.Allowlist.Sha256.Add(identity.ToUpperInvariant());
        AttachResponse attached = await fleet.AttachAsync(attach, CancellationToken.None);
        Assert.Equal([identity], attached.Accelerator.Allowlist.Sha256);

        using AcceleratorSession session = await AcceleratorSession.OpenAsync(
            new AcceleratorSessionOptions { Broker = _cluster.BrokerUrl, Host = host, Ordinal = 0, HostCredential = attached.HostCredential });
        RemoteModel allowed = await session.LoadModelAsync(Fixtures.Path("identity.pt"));
        await AssertIdentityRunsAsync(session, allowed);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => session.LoadModelAsync(Fixtures.Path("demo_mlp.pt")));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal($"model {demo} is not on the allowlist of host {host}'s accelerator 0", refused.Status.Detail);

        // Widening: the same session loads it now, without a new attach.
        Accelerator widened = await fleet.SetAllowedModelsAsync(host, 0, [identity, demo]);
        Assert.Equal(2, widened.Allowlist.Sha256.Count);
        RemoteModel second = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        await AssertDemoRunsAsync(session, second);

        // Narrowing unloads what the list no longer holds: its runs are then those of an unknown model.
        await fleet.SetAllowedModelsAsync(host, 0, [demo]);
        RpcException gone = await Assert.ThrowsAsync<RpcException>(() => AssertIdentityRunsAsync(session, allowed));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        await AssertDemoRunsAsync(session, second);
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => session.LoadModelAsync(Fixtures.Path("identity.pt")))).StatusCode);

        // Clearing lifts the restriction.
        Accelerator cleared = await fleet.SetAllowedModelsAsync(host, 0, null);
        Assert.Null(cleared.Allowlist);
        Assert.Null(Assert.Single((await fleet.DescribeAcceleratorsAsync(host)).Accelerators).Allowlist);
        await AssertIdentityRunsAsync(session, await session.LoadModelAsync(Fixtures.Path("identity.pt")));
    }

    [Fact]
    public async Task BadHashesAreInvalidArgumentAndChangeNothing()
    {
        string identity = Sha256Of("identity.pt");
        string host = NewHost();
        using FleetClient fleet = Fleet(_cluster.AdminKey);
        await fleet.SetAllowedModelsAsync(host, (await fleet.AttachAsync(host, TestCluster.TinySlice)).Ordinal, [identity]);

        RpcException bad = await Assert.ThrowsAsync<RpcException>(() => fleet.SetAllowedModelsAsync(host, 0, [identity, "not-a-hash"]));

        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal("allowlist entry 1 ('not-a-hash') is not a SHA-256: expected 64 hex digits", bad.Status.Detail);
        Assert.Equal([identity], Assert.Single((await fleet.DescribeAcceleratorsAsync(host)).Accelerators).Allowlist.Sha256);
    }

    [Fact]
    public async Task AViewerKeyCannotChangeAnAllowlist()
    {
        string host = NewHost();
        using FleetClient admin = Fleet(_cluster.AdminKey);
        await admin.AttachAsync(host, TestCluster.TinySlice);
        string viewerKey = (await admin.CreateApiKeyAsync("allowlist-viewer", ApiKeyRole.Viewer)).Secret;
        using FleetClient viewer = Fleet(viewerKey);

        RpcException denied = await Assert.ThrowsAsync<RpcException>(() => viewer.SetAllowedModelsAsync(host, 0, []));

        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.DoesNotContain(viewerKey, denied.Status.Detail, StringComparison.Ordinal);
        Assert.Null(Assert.Single((await viewer.DescribeAcceleratorsAsync(host)).Accelerators).Allowlist);
    }

    internal static string Sha256Of(string model) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Fixtures.Path(model))));

    private static async Task AssertIdentityRunsAsync(AcceleratorSession session, RemoteModel model)
    {
        Tensor input = Fixtures.Npy("identity.input0.npy");
        ModelOutput output = await session.RunAsync(model, [input]);
        Assert.Equal(input.ToSingleArray(), output[0].ToSingleArray());
    }

    private static async Task AssertDemoRunsAsync(AcceleratorSession session, RemoteModel model)
    {
        ModelOutput output = await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);
        Assert.Equal(Fixtures.Npy("demo_mlp.output0.npy").Shape, output[0].Shape);
    }

    private FleetClient Fleet(string key) => new(new FleetClientOptions { Broker = _cluster.BrokerUrl, ApiKey = key });

    private static string NewHost() => "allow-" + Guid.NewGuid().ToString("N")[..8];
}
