using AccelBroker.Broker;
using AccelBroker.Protocol.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Broker;

/// <summary>Agent enrolment over real gRPC, with RequireAgentEnrollment on.</summary>
public sealed class EnrollmentTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingLoggerProvider _logs = new();
    private readonly System.Collections.Concurrent.ConcurrentBag<string> _secrets = [];
    private BrokerTestHost _broker = null!;
    private FakeAgent _agent = null!;
    private FakeAgent _other = null!;

    private BrokerClient Broker => _broker.Client;

    public async Task InitializeAsync()
    {
        _broker = await BrokerTestHost.StartAsync(output, new BrokerOptions { RequireAgentEnrollment = true }, _time, _logs);
        _agent = await FakeAgent.StartAsync(output);
        _other = await FakeAgent.StartAsync(output);
    }

    public async Task DisposeAsync()
    {
        // No token or credential handed out in a test may appear in any log line.
        foreach (string secret in _secrets)
        {
            Assert.DoesNotContain(_logs.Messages, m => m.Message.Contains(secret, StringComparison.Ordinal));
        }

        await _broker.DisposeAsync();
        await _agent.DisposeAsync();
        await _other.DisposeAsync();
    }

    [Fact]
    public async Task AnUnenrolledAgentCannotRegisterOrHeartbeat()
    {
        RpcException register = await Assert.ThrowsAsync<RpcException>(() => RegisterAsync(_agent, credential: null));
        Assert.Equal(StatusCode.Unauthenticated, register.StatusCode);
        Assert.Contains("authorization: Bearer aba_", register.Status.Detail, StringComparison.Ordinal);

        RpcException heartbeat = await Assert.ThrowsAsync<RpcException>(
            async () => await _broker.Anonymous.HeartbeatAsync(new HeartbeatRequest { AgentId = "agent-000000000000" }));
        Assert.Equal(StatusCode.Unauthenticated, heartbeat.StatusCode);

        const string forged = "aba_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        RpcException unknown = await Assert.ThrowsAsync<RpcException>(() => RegisterAsync(_agent, forged));
        Assert.Equal(StatusCode.Unauthenticated, unknown.StatusCode);
        Assert.DoesNotContain(forged, unknown.Status.Detail, StringComparison.Ordinal);
        Assert.Empty((await Broker.DescribeAgentsAsync(new DescribeAgentsRequest())).Agents);
    }

    [Fact]
    public async Task AnEnrolledAgentRegistersUnderItsIdAndHeartbeats()
    {
        EnrollAgentResponse enrolled = await EnrollAsync(await CreateAsync("gpu-1"));

        RegisterAgentResponse registered = await RegisterAsync(_agent, enrolled.Credential);
        Assert.Equal(enrolled.AgentId, registered.AgentId);
        Assert.Matches("^agent-[0-9a-f]{12}$", registered.AgentId);
        Assert.StartsWith("aba_", enrolled.Credential, StringComparison.Ordinal);
        Assert.Equal("gpu-1", enrolled.Name);

        await Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = enrolled.AgentId }, Bearer(enrolled.Credential));
        EnrolledAgent listed = Assert.Single((await Broker.ListEnrolledAgentsAsync(new ListEnrolledAgentsRequest())).Agents);
        Assert.Equal(enrolled.AgentId, listed.AgentId);
        Assert.Equal("gpu-1", listed.Name);
        Assert.NotNull(listed.LastSeen);
        Assert.Null(listed.RevokedAt);
    }

    [Fact]
    public async Task AnAgentCannotRegisterOrHeartbeatUnderAnotherAgentsId()
    {
        EnrollAgentResponse first = await EnrollAsync(await CreateAsync("one"));
        EnrollAgentResponse second = await EnrollAsync(await CreateAsync("two"));
        await RegisterAsync(_agent, first.Credential);

        RpcException register = await Assert.ThrowsAsync<RpcException>(() => RegisterAsync(_other, second.Credential, first.AgentId));
        Assert.Equal(StatusCode.PermissionDenied, register.StatusCode);
        RpcException heartbeat = await Assert.ThrowsAsync<RpcException>(
            async () => await Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = first.AgentId }, Bearer(second.Credential)));
        Assert.Equal(StatusCode.PermissionDenied, heartbeat.StatusCode);
        Assert.DoesNotContain(second.Credential, heartbeat.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredUsedAndUnknownEnrolmentTokensAreRefused()
    {
        string expiring = await CreateAsync("late", TimeSpan.FromMinutes(5));
        _time.Advance(TimeSpan.FromMinutes(6));
        await AssertEnrolRefusedAsync(expiring);

        string single = await CreateAsync("once");
        await EnrollAsync(single);
        await AssertEnrolRefusedAsync(single);

        string reusable = await CreateAsync("many", reusable: true);
        EnrollAgentResponse a = await EnrollAsync(reusable);
        EnrollAgentResponse b = await EnrollAsync(reusable);
        Assert.NotEqual(a.AgentId, b.AgentId);

        // Right form and a known id, wrong secret; then a well-formed token nobody created; then no token at all.
        await AssertEnrolRefusedAsync(single[..^4] + "AAAA");
        await AssertEnrolRefusedAsync("abe_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        RpcException none = await Assert.ThrowsAsync<RpcException>(async () => await Broker.EnrollAgentAsync(new EnrollAgentRequest()));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
    }

    [Fact]
    public async Task ConcurrentEnrolmentsWithOneSingleUseTokenLetExactlyOneThrough()
    {
        string token = await CreateAsync("race");
        Task<StatusCode>[] attempts = [.. Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                _secrets.Add((await Broker.EnrollAgentAsync(new EnrollAgentRequest(), Bearer(token))).Credential);
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        })];

        StatusCode[] results = await Task.WhenAll(attempts);
        Assert.Single(results, StatusCode.OK);
        Assert.All(results.Where(r => r != StatusCode.OK), r => Assert.Equal(StatusCode.Unauthenticated, r));
        Assert.Single((await Broker.ListEnrolledAgentsAsync(new ListEnrolledAgentsRequest())).Agents);
    }

    [Fact]
    public async Task BadEnrolmentRequestsAreInvalidInput()
    {
        RpcException noName = await Assert.ThrowsAsync<RpcException>(
            async () => await Broker.CreateEnrollmentAsync(new CreateEnrollmentRequest { Name = " " }));
        Assert.Equal(StatusCode.InvalidArgument, noName.StatusCode);
        RpcException longTtl = await Assert.ThrowsAsync<RpcException>(async () => await Broker.CreateEnrollmentAsync(
            new CreateEnrollmentRequest { Name = "x", Ttl = Duration.FromTimeSpan(TimeSpan.FromDays(31)) }));
        Assert.Equal(StatusCode.InvalidArgument, longTtl.StatusCode);
        RpcException unknown = await Assert.ThrowsAsync<RpcException>(
            async () => await Broker.RevokeAgentAsync(new RevokeAgentRequest { AgentId = "agent-000000000000" }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task ARevokedAgentIsRefusedAtOnceAndGetsNoNewSlice()
    {
        EnrollAgentResponse revoked = await EnrollAsync(await CreateAsync("bad"));
        await RegisterAsync(_agent, revoked.Credential);
        Accelerator before = (await Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium" })).Accelerator;
        Assert.Equal(revoked.AgentId, before.AgentId);

        RevokeAgentResponse response = await Broker.RevokeAgentAsync(new RevokeAgentRequest { AgentId = revoked.AgentId });
        Assert.NotNull(response.Agent.RevokedAt);
        Assert.Equal(1, response.SlicesStranded);

        RpcException heartbeat = await Assert.ThrowsAsync<RpcException>(
            async () => await Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = revoked.AgentId }, Bearer(revoked.Credential)));
        Assert.Equal(StatusCode.Unauthenticated, heartbeat.StatusCode);
        RpcException register = await Assert.ThrowsAsync<RpcException>(() => RegisterAsync(_agent, revoked.Credential));
        Assert.Equal(StatusCode.Unauthenticated, register.StatusCode);

        // Its slice shows unhealthy, and a new attach does not land on it.
        Accelerator shown = Assert.Single((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "host-a" })).Accelerators);
        Assert.Equal(AgentHealth.Unhealthy, shown.Health);
        RpcException noRoom = await Assert.ThrowsAsync<RpcException>(
            async () => await Broker.AttachAsync(new AttachRequest { Host = "host-b", SliceType = "eia2.medium" }));
        Assert.Equal(StatusCode.ResourceExhausted, noRoom.StatusCode);

        EnrollAgentResponse good = await EnrollAsync(await CreateAsync("good"));
        await RegisterAsync(_other, good.Credential);
        Accelerator after = (await Broker.AttachAsync(new AttachRequest { Host = "host-b", SliceType = "eia2.medium" })).Accelerator;
        Assert.Equal(good.AgentId, after.AgentId);
        Assert.Contains(_logs.Messages, m => m.Name == "AgentRevoked" && m.Message.Contains(revoked.AgentId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARevokedAgentsSlicesMoveToAnAgentWithRoomUnderTheSameOrdinal()
    {
        EnrollAgentResponse revoked = await EnrollAsync(await CreateAsync("bad"));
        EnrollAgentResponse good = await EnrollAsync(await CreateAsync("good"));
        await RegisterAsync(_agent, revoked.Credential);
        Accelerator before = (await Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium" })).Accelerator;
        Assert.Equal(revoked.AgentId, before.AgentId);
        await RegisterAsync(_other, good.Credential);

        RevokeAgentResponse response = await Broker.RevokeAgentAsync(new RevokeAgentRequest { AgentId = revoked.AgentId });

        Assert.Equal(1, response.SlicesMoved);
        Assert.Equal(0, response.SlicesStranded);
        Accelerator after = Assert.Single((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "host-a" })).Accelerators);
        Assert.Equal(good.AgentId, after.AgentId);
        Assert.Equal(before.Ordinal, after.Ordinal);
        Assert.Equal(AgentHealth.Healthy, after.Health);
        Assert.Contains(_other.Control.Slices.Values, s => s.SliceId == after.Id);
    }

    private static Metadata Bearer(string secret) => new() { { "authorization", "Bearer " + secret } };

    private async Task<string> CreateAsync(string name, TimeSpan? ttl = null, bool reusable = false)
    {
        var request = new CreateEnrollmentRequest { Name = name, Reusable = reusable };
        if (ttl is { } lifetime)
        {
            request.Ttl = Duration.FromTimeSpan(lifetime);
        }

        CreateEnrollmentResponse response = await Broker.CreateEnrollmentAsync(request);
        Assert.Matches("^abe_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", response.Token);
        _secrets.Add(response.Token);
        return response.Token;
    }

    private async Task<EnrollAgentResponse> EnrollAsync(string token)
    {
        EnrollAgentResponse response = await Broker.EnrollAgentAsync(new EnrollAgentRequest(), Bearer(token));
        _secrets.Add(response.Credential);
        return response;
    }

    private async Task AssertEnrolRefusedAsync(string token)
    {
        RpcException refused = await Assert.ThrowsAsync<RpcException>(
            async () => await Broker.EnrollAgentAsync(new EnrollAgentRequest(), Bearer(token)));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.DoesNotContain(token, refused.Status.Detail, StringComparison.Ordinal);
    }

    // Agents hold no API key: without a credential the call goes out bare.
    private async Task<RegisterAgentResponse> RegisterAsync(FakeAgent agent, string? credential, string agentId = "") =>
        await (credential is null ? _broker.Anonymous : Broker).RegisterAgentAsync(
            new RegisterAgentRequest
            {
                AgentId = agentId,
                Address = agent.Address,
                Device = new DeviceInfo { Kind = "cpu", Name = "test cpu", TotalMemoryBytes = 16L << 30 },
                Capacity = new AgentCapacity { MemoryBytes = 16L << 30, Compute = 1.0 },
                InstanceType = "c5.large",
                Version = "test",
            },
            credential is null ? null : Bearer(credential));
}
