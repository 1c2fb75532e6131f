using AccelBroker.Broker;
using AccelBroker.Broker.Attachments;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using AccelBroker.Broker.Storage.Import;
using AccelBroker.Tests.Storage;
using Xunit;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Broker;

/// <summary>Model allowlists as the broker keeps them: on attach, changed later, sent to the agent, saved, and refused when bad.</summary>
public sealed class AllowedModelsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string A = new('a', 64);
    private static readonly string B = new('b', 64);
    private static readonly string C = string.Concat(Enumerable.Repeat("0123456789abcdef", 4));

    private BrokerTestHost _broker = null!;
    private FakeAgent _agent = null!;
    private string _agentId = "";

    private BrokerClient Broker => _broker.Client;

    public async Task InitializeAsync()
    {
        _broker = await BrokerTestHost.StartAsync(output);
        _agent = await FakeAgent.StartAsync(output);
        _agentId = (await _agent.RegisterAsync(Broker)).AgentId;
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _agent.DisposeAsync();
    }

    [Fact]
    public async Task AnAttachWithoutAnAllowlistIsUnrestrictedEverywhere()
    {
        Accelerator attached = await AttachAsync(allowlist: null);

        Assert.Null(attached.Allowlist);
        Assert.Null(_agent.Control.Slices[attached.Id].Allowlist);
        Assert.Null(Assert.Single((await HeartbeatAsync()).Slices).Allowlist);
    }

    [Fact]
    public async Task AnAttachAllowlistIsNormalisedShownAndSentToTheAgent()
    {
        Accelerator attached = await AttachAsync(Allow(B, A.ToUpperInvariant(), A));

        Assert.Equal([A, B], attached.Allowlist.Sha256);
        Assert.Equal([A, B], _agent.Control.Slices[attached.Id].Allowlist.Sha256);
        Assert.Equal([A, B], Assert.Single((await HeartbeatAsync()).Slices).Allowlist.Sha256);
        Accelerator described = Assert.Single((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators);
        Assert.Equal([A, B], described.Allowlist.Sha256);
    }

    [Fact]
    public async Task AnEmptyAllowlistAllowsNothingAndIsNotTheSameAsNone()
    {
        Accelerator attached = await AttachAsync(Allow());

        Assert.NotNull(attached.Allowlist);
        Assert.Empty(attached.Allowlist.Sha256);
        Assert.NotNull(_agent.Control.Slices[attached.Id].Allowlist);
    }

    [Fact]
    public async Task SetAllowedModelsReplacesAndClearsAndTellsTheAgentAtOnce()
    {
        Accelerator attached = await AttachAsync(Allow(A));

        // Sorted, so the same set always reads the same.
        Accelerator widened = await SetAsync(Allow(A, C));
        Assert.Equal([C, A], widened.Allowlist.Sha256);
        Assert.Equal(attached.Id, widened.Id);
        Assert.Equal([C, A], _agent.Control.Slices[attached.Id].Allowlist.Sha256);

        Accelerator cleared = await SetAsync(null);
        Assert.Null(cleared.Allowlist);
        Assert.Null(_agent.Control.Slices[attached.Id].Allowlist);
        Assert.Null(Assert.Single((await HeartbeatAsync()).Slices).Allowlist);
    }

    [Theory]
    [InlineData("abc", "allowlist entry 1 ('abc') is not a SHA-256: expected 64 hex digits")]
    [InlineData("", "allowlist entry 1 ('') is not a SHA-256")]
    [InlineData("gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg", "allowlist entry 1 ('gggg")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "is not a SHA-256")]
    public async Task ABadHashIsInvalidArgumentNamingItAndChangesNothing(string bad, string message)
    {
        Accelerator attached = await AttachAsync(Allow(A));

        RpcException set = await Assert.ThrowsAsync<RpcException>(() => SetAsync(Allow(B, bad)));
        Assert.Equal(StatusCode.InvalidArgument, set.StatusCode);
        Assert.Contains(message, set.Status.Detail, StringComparison.Ordinal);

        RpcException attach = await Assert.ThrowsAsync<RpcException>(() => AttachAsync(Allow(bad)));
        Assert.Equal(StatusCode.InvalidArgument, attach.StatusCode);
        Assert.Contains("allowlist entry 0", attach.Status.Detail, StringComparison.Ordinal);

        Accelerator described = Assert.Single((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators);
        Assert.Equal(attached.Id, described.Id);
        Assert.Equal([A], described.Allowlist.Sha256);
        Assert.Equal([A], Assert.Single(_agent.Control.Slices).Value.Allowlist.Sha256);
    }

    [Fact]
    public async Task TooManyHashesAreInvalidArgumentNamingTheBound()
    {
        string[] many = [.. Enumerable.Range(0, ModelAllowlistChecks.MaxHashes + 1).Select(i => i.ToString("x64", System.Globalization.CultureInfo.InvariantCulture))];
        await AttachAsync(Allow(A));

        RpcException ex = await Assert.ThrowsAsync<RpcException>(() => SetAsync(Allow(many)));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("the allowlist has 1025 entries; at most 1024 are allowed", ex.Status.Detail);
        Assert.Equal([A], Assert.Single((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators).Allowlist.Sha256);

        // The bound itself is fine.
        Assert.Equal(ModelAllowlistChecks.MaxHashes, (await SetAsync(Allow(many[..^1]))).Allowlist.Sha256.Count);
    }

    [Fact]
    public async Task SetAllowedModelsOfNothingAttachedIsNotFound()
    {
        await AttachAsync(Allow(A));

        RpcException missing = await Assert.ThrowsAsync<RpcException>(
            () => Broker.SetAllowedModelsAsync(new SetAllowedModelsRequest { Host = "h", Ordinal = 3, Allowlist = Allow(B) }).ResponseAsync);
        RpcException negative = await Assert.ThrowsAsync<RpcException>(
            () => Broker.SetAllowedModelsAsync(new SetAllowedModelsRequest { Host = "h", Ordinal = -1 }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Equal("host 'h' has no accelerator at ordinal 3; attached ordinals: 0", missing.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, negative.StatusCode);
    }

    [Fact]
    public async Task AnAgentThatCannotBeToldGetsTheChangeWithItsNextHeartbeat()
    {
        Accelerator attached = await AttachAsync(Allow(A));
        _agent.Control.BeforeAssign = _ => throw new RpcException(new Status(StatusCode.Unavailable, "down for a moment"));

        Accelerator changed = await SetAsync(Allow(B));

        Assert.Equal([B], changed.Allowlist.Sha256);
        Assert.Equal([A], _agent.Control.Slices[attached.Id].Allowlist.Sha256);
        Assert.Equal([B], Assert.Single((await HeartbeatAsync()).Slices).Allowlist.Sha256);
    }

    [Fact]
    public async Task AllowlistsSurviveARestartAndAFileWithoutThemReadsAsUnrestricted()
    {
        string dataDir = Directory.CreateTempSubdirectory("accelbroker-allow-").FullName;
        try
        {
            var options = new BrokerOptions { DataDir = dataDir };
            await using (BrokerTestHost first = await BrokerTestHost.StartAsync(output, options))
            {
                await _agent.RegisterAsync(first.Client, agentId: _agentId);
                await first.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium", Allowlist = Allow(B, A) });
                await first.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" });
                await first.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium", Allowlist = Allow() });
            }

            await using (BrokerTestHost second = await BrokerTestHost.StartAsync(output, options))
            {
                RegisterAgentResponse registered = await _agent.RegisterAsync(second.Client, agentId: _agentId);
                Dictionary<int, ModelAllowlist?> sent = registered.Slices.ToDictionary(s => s.Ordinal, s => (ModelAllowlist?)s.Allowlist);
                Assert.Equal([A, B], sent[0]!.Sha256);
                Assert.Null(sent[1]);
                Assert.Empty(sent[2]!.Sha256);
                Accelerator[] described = [.. (await second.Client.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators];
                Assert.Equal([A, B], described[0].Allowlist.Sha256);
                Assert.Null(described[1].Allowlist);
            }

            // A file written before allowlists existed has no such field.
            string path = Path.Combine(dataDir, LegacyAttachmentsFile.FileName);
            File.WriteAllText(path, """{"version": 1, "attachments": [{"id": "acc-1", "host": "old", "ordinal": 0, "slice_type": "eia2.medium", "host_type": "", "agent_id": "a", "agent_address": "", "memory_bytes": 1, "compute_share": 0.1, "attached_at": "2025-01-01T00:00:00Z"}]}""");
            AttachmentRecord old = Assert.Single(LegacyAttachmentsFile.Read(path)!);
            Assert.Null(old.Allowlist);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public void AFileToImportWithABadHashStopsTheBroker()
    {
        string dataDir = Directory.CreateTempSubdirectory("accelbroker-allow-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dataDir, LegacyAttachmentsFile.FileName), """{"version": 1, "attachments": [{"id": "acc-1", "host": "h", "ordinal": 0, "slice_type": "s", "host_type": "", "agent_id": "a", "agent_address": "", "memory_bytes": 1, "compute_share": 0.1, "attached_at": "2025-01-01T00:00:00Z", "allowlist": ["nope"]}]}""");

            var ex = Assert.Throws<BrokerConfigurationException>(() => TestDatabase.Open(dataDir).Dispose());

            Assert.Contains("attachment acc-1: allowlist entry 0 ('nope') is not a SHA-256", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static ModelAllowlist Allow(params string[] hashes)
    {
        var allowlist = new ModelAllowlist();
        allowlist.Sha256.AddRange(hashes);
        return allowlist;
    }

    private async Task<Accelerator> AttachAsync(ModelAllowlist? allowlist) =>
        (await Broker.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium", Allowlist = allowlist })).Accelerator;

    private async Task<Accelerator> SetAsync(ModelAllowlist? allowlist) =>
        (await Broker.SetAllowedModelsAsync(new SetAllowedModelsRequest { Host = "h", Ordinal = 0, Allowlist = allowlist })).Accelerator;

    private async Task<HeartbeatResponse> HeartbeatAsync() =>
        await Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = _agentId });
}
