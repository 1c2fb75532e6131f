using AccelBroker.Broker;
using AccelBroker.Hosting.Errors;
using AccelBroker.Hosting.Tokens;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Tokens;

/// <summary>
/// The tokens the broker signs, checked as an agent checks them (offline, with the keys the broker published in its
/// answers to the agent) on one clock shared by broker and verifier.
/// </summary>
public sealed class AccessTokenTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Rotation = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(20);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private BrokerTestHost _broker = null!;
    private FakeAgent _agent = null!;
    private RegisterAgentResponse _registered = null!;

    private BrokerClient Broker => _broker.Client;

    public async Task InitializeAsync()
    {
        _broker = await BrokerTestHost.StartAsync(
            output, new BrokerOptions { SliceTokenLifetime = Lifetime, SigningKeyRotation = Rotation, SigningKeyOverlap = Overlap }, _time);
        _agent = await FakeAgent.StartAsync(output);
        _registered = await _agent.RegisterAsync(Broker);
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _agent.DisposeAsync();
    }

    [Fact]
    public async Task AResolvedAcceleratorComesWithASliceTokenForItsSliceAgentAndHostThatTheAgentVerifiesOffline()
    {
        Accelerator attached = (await Broker.AttachAsync(new AttachRequest { Host = "app-1", SliceType = "eia2.medium" })).Accelerator;
        ResolveAcceleratorResponse resolved = await Broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "app-1" });
        AccessTokenVerifier verifier = VerifierTrusting(_registered.TokenKeys);

        AccessGrant grant = await verifier.VerifyAsync(resolved.SliceToken, _registered.AgentId);

        Assert.Equal(new AccessGrant(AccessScope.Slice, _registered.AgentId, "app-1", attached.Id, resolved.SliceTokenExpiresAt.ToDateTimeOffset()) { Epoch = 1 }, grant);
        Assert.InRange(grant.ExpiresAt - _time.GetUtcNow(), Lifetime - TimeSpan.FromSeconds(1), Lifetime);
        DomainException otherAgent = await Assert.ThrowsAsync<DomainException>(async () => await verifier.VerifyAsync(resolved.SliceToken, "agent-other"));
        Assert.Equal(DomainErrorKind.Unauthenticated, otherAgent.Kind);
    }

    [Fact]
    public async Task ATokenOutlivesTheRotationOfItsKeyButNotItsOwnExpiryNorTheOverlap()
    {
        await Broker.AttachAsync(new AttachRequest { Host = "app-1", SliceType = "eia2.medium" });
        string before = (await Broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "app-1" })).SliceToken;

        _time.Advance(Rotation + TimeSpan.FromSeconds(1));
        HeartbeatResponse rotated = await Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = _registered.AgentId });
        string after = (await Broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "app-1" })).SliceToken;
        AccessTokenVerifier verifier = VerifierTrusting(rotated.TokenKeys);

        Assert.Equal(2, rotated.TokenKeys.Count);
        Assert.Single(rotated.TokenKeys, k => k.NotAfter is null);
        Assert.Equal("app-1", (await verifier.VerifyAsync(before, _registered.AgentId)).Subject);
        Assert.Equal("app-1", (await verifier.VerifyAsync(after, _registered.AgentId)).Subject);
        // Only the overlap keeps the old key: a verifier with the current key alone refuses the older token.
        AccessTokenVerifier currentOnly = VerifierTrusting(rotated.TokenKeys.Where(k => k.NotAfter is null));
        Assert.Contains("does not trust", (await Assert.ThrowsAsync<DomainException>(async () => await currentOnly.VerifyAsync(before, _registered.AgentId))).Message);

        // Past its expiry (and the clock skew) a token is refused even though it was verified and remembered before.
        _time.Advance(Lifetime + AccessTokenFormat.ClockSkew);
        Assert.Contains("expired", (await Assert.ThrowsAsync<DomainException>(async () => await verifier.VerifyAsync(before, _registered.AgentId))).Message);

        // Past the overlap the retired key is no longer published, and an agent that follows the list drops it.
        _time.Advance(Overlap);
        HeartbeatResponse later = await Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = _registered.AgentId });
        Assert.DoesNotContain(later.TokenKeys, k => rotated.TokenKeys.Any(r => r.NotAfter is not null && r.Kid == k.Kid));
        verifier.Trust(ToTrusted(later.TokenKeys));
        Assert.DoesNotContain(rotated.TokenKeys.Single(k => k.NotAfter is not null).Kid, verifier.TrustedKeyIds);
    }

    [Fact]
    public async Task TheBrokersAgentControlCallsCarryAControlTokenForThatAgent()
    {
        Accelerator attached = (await Broker.AttachAsync(new AttachRequest { Host = "app-1", SliceType = "eia2.medium" })).Accelerator;
        await Broker.DetachAsync(new DetachRequest { Host = "app-1", Ordinal = attached.Ordinal });
        AccessTokenVerifier verifier = VerifierTrusting(_registered.TokenKeys);

        string?[] bearers = [.. _agent.Control.Bearers];
        Assert.Equal(2, bearers.Length);
        foreach (string? bearer in bearers)
        {
            AccessGrant grant = await verifier.VerifyAsync(Assert.IsType<string>(bearer), _registered.AgentId);
            Assert.Equal((AccessScope.Control, AccessGrant.BrokerSubject, (string?)null), (grant.Scope, grant.Subject, grant.SliceId));
        }
    }

    [Fact]
    public async Task AnOperatorTokenIsIssuedForAKnownAgentOnlyAndNamesTheKey()
    {
        IssueAgentTokenResponse issued = await Broker.IssueAgentTokenAsync(new IssueAgentTokenRequest { AgentId = _registered.AgentId });
        AccessGrant grant = await VerifierTrusting(_registered.TokenKeys).VerifyAsync(issued.Token, _registered.AgentId);
        RpcException unknown = await Assert.ThrowsAsync<RpcException>(async () => await Broker.IssueAgentTokenAsync(new IssueAgentTokenRequest { AgentId = "agent-none" }));
        RpcException empty = await Assert.ThrowsAsync<RpcException>(async () => await Broker.IssueAgentTokenAsync(new IssueAgentTokenRequest()));

        Assert.Equal((AccessScope.Operator, "test-admin", (string?)null), (grant.Scope, grant.Subject, grant.SliceId));
        Assert.Equal(_agent.Address, issued.AgentAddress);
        Assert.Equal(issued.ExpiresAt.ToDateTimeOffset(), grant.ExpiresAt);
        Assert.Equal((StatusCode.NotFound, "unknown agent 'agent-none'; accel describe-agents lists them"), (unknown.StatusCode, unknown.Status.Detail));
        Assert.Equal((StatusCode.InvalidArgument, "agent_id must not be empty"), (empty.StatusCode, empty.Status.Detail));
    }

    private AccessTokenVerifier VerifierTrusting(IEnumerable<TokenKey> keys)
    {
        var verifier = new AccessTokenVerifier(_time);
        verifier.Trust(ToTrusted(keys));
        return verifier;
    }

    private static TrustedKey[] ToTrusted(IEnumerable<TokenKey> keys) =>
        [.. keys.Select(k => new TrustedKey(k.Kid, k.PublicKey.ToByteArray(), k.NotAfter?.ToDateTimeOffset()))];
}
