using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>A host's credential opens that host's accelerators and nothing else, and ends with its last accelerator.</summary>
public sealed class HostCredentialTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task AHostsCredentialOpensItsOwnAcceleratorsOnlyAndIsRetiredWithTheLastOne()
    {
        string host = "cred-" + Guid.NewGuid().ToString("N")[..8];
        string other = "cred-" + Guid.NewGuid().ToString("N")[..8];
        Accelerator mine = await _cluster.AttachAsync(host, TestCluster.TinySlice);
        await _cluster.AttachAsync(other, TestCluster.TinySlice);
        string credential = _cluster.HostCredentialOf(host) ?? throw new InvalidOperationException("the first attach issued no credential");
        Assert.Matches("^abh_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", credential);

        // The application's path: resolve with the host credential, then run on the agent.
        await using (AcceleratorSession session = await AcceleratorSession.OpenAsync(
            new AcceleratorSessionOptions { Broker = _cluster.BrokerUrl, Host = host, Ordinal = mine.Ordinal, HostCredential = credential }))
        {
            Assert.Equal(mine.Id, session.Accelerator.Id);
        }

        RpcException foreign = await Assert.ThrowsAsync<RpcException>(() => AcceleratorSession.OpenAsync(
            new AcceleratorSessionOptions { Broker = _cluster.BrokerUrl, Host = other, Ordinal = 0, HostCredential = credential }));
        Assert.Equal(StatusCode.PermissionDenied, foreign.StatusCode);
        Assert.Contains($"host '{host}'", foreign.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(credential, foreign.Status.Detail, StringComparison.Ordinal);

        // A host credential is no operator key.
        using (var asHost = new FleetClient(new FleetClientOptions { Broker = _cluster.BrokerUrl, ApiKey = credential }))
        {
            RpcException attach = await Assert.ThrowsAsync<RpcException>(() => asHost.AttachAsync(host, TestCluster.TinySlice));
            Assert.Equal(StatusCode.PermissionDenied, attach.StatusCode);
            Assert.Single((await asHost.DescribeAcceleratorsAsync(host)).Accelerators);
            RpcException describeOther = await Assert.ThrowsAsync<RpcException>(() => asHost.DescribeAcceleratorsAsync(other));
            Assert.Equal(StatusCode.PermissionDenied, describeOther.StatusCode);
        }

        // A second attach keeps the host's credential; detaching the last accelerator retires it.
        AttachResponse second = await _cluster.BrokerClient.AttachAsync(new AttachRequest { Host = host, SliceType = TestCluster.TinySlice }, deadline: TestCluster.Deadline());
        Assert.Empty(second.HostCredential);
        await _cluster.BrokerClient.DetachAsync(new DetachRequest { Host = host, Ordinal = second.Accelerator.Ordinal }, deadline: TestCluster.Deadline());
        await _cluster.BrokerClient.DetachAsync(new DetachRequest { Host = host, Ordinal = mine.Ordinal }, deadline: TestCluster.Deadline());
        RpcException retired = await Assert.ThrowsAsync<RpcException>(() => AcceleratorSession.OpenAsync(
            new AcceleratorSessionOptions { Broker = _cluster.BrokerUrl, Host = host, Ordinal = 0, HostCredential = credential }));
        Assert.Equal(StatusCode.Unauthenticated, retired.StatusCode);
    }

    [Fact]
    public async Task KeysCreatedListedAndRevokedWithTheCliStopWorkingAtOnce()
    {
        CliProcess.Result created = await CliInProcess.RunAsync("keys", "create", "--name", "dashboard", "--role", "viewer", "--json", "--broker", _cluster.BrokerUrl);
        Assert.True(created.ExitCode == 0, created.StdErr);
        using System.Text.Json.JsonDocument json = System.Text.Json.JsonDocument.Parse(created.StdOut);
        string secret = json.RootElement.GetProperty("secret").GetString()!;
        string id = json.RootElement.GetProperty("key").GetProperty("id").GetString()!;
        Assert.Equal("viewer", json.RootElement.GetProperty("key").GetProperty("role").GetString());

        string keyFile = Path.Combine(Path.GetTempPath(), $"accel-viewer-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(keyFile, secret);
        try
        {
            CliProcess.Result described = await CliInProcess.RunAsync("describe-agents", "--broker", _cluster.BrokerUrl, "--api-key-file", keyFile);
            Assert.True(described.ExitCode == 0, described.StdErr);
            CliProcess.Result attach = await CliInProcess.RunAsync("attach", "--host", "viewer-host", "--type", TestCluster.TinySlice, "--broker", _cluster.BrokerUrl, "--api-key-file", keyFile);
            Assert.Equal(1, attach.ExitCode);
            Assert.Contains("PermissionDenied", attach.StdErr, StringComparison.Ordinal);
            Assert.Contains("operator role", attach.StdErr, StringComparison.Ordinal);

            CliProcess.Result listed = await CliInProcess.RunAsync("keys", "list", "--json", "--broker", _cluster.BrokerUrl);
            Assert.Contains(id, listed.StdOut, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, listed.StdOut, StringComparison.Ordinal);

            CliProcess.Result revoked = await CliInProcess.RunAsync("keys", "revoke", id, "--broker", _cluster.BrokerUrl);
            Assert.True(revoked.ExitCode == 0, revoked.StdErr);
            CliProcess.Result refused = await CliInProcess.RunAsync("describe-agents", "--broker", _cluster.BrokerUrl, "--api-key-file", keyFile);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("Unauthenticated", refused.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, refused.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }
}
