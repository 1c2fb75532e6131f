using AccelBroker.Broker;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Security;

/// <summary>
/// Every method of the Broker service, from its descriptor, against every kind of caller. The expected access is written
/// here, apart from the broker's table, so a method added without a decision fails this test.
/// </summary>
public sealed class BrokerAccessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private enum Access
    {
        Agent,
        Viewer,
        HostOrViewer,
        HostOrOperator,
        Operator,
        Admin,
    }

    private static readonly Dictionary<string, Access> Expected = new(StringComparer.Ordinal)
    {
        ["RegisterAgent"] = Access.Agent,
        ["Heartbeat"] = Access.Agent,
        ["EnrollAgent"] = Access.Agent,
        ["ListSliceTypes"] = Access.Viewer,
        ["ListPrices"] = Access.Viewer,
        ["DescribeAgents"] = Access.Viewer,
        ["DescribeAccelerators"] = Access.HostOrViewer,
        ["GetUsage"] = Access.HostOrViewer,
        ["Attach"] = Access.Operator,
        ["Detach"] = Access.Operator,
        ["SetAllowedModels"] = Access.Operator,
        ["ResolveAccelerator"] = Access.HostOrOperator,
        ["ReportClientUsage"] = Access.HostOrOperator,
        ["CreateApiKey"] = Access.Admin,
        ["ListApiKeys"] = Access.Admin,
        ["RevokeApiKey"] = Access.Admin,
        ["CreateEnrollment"] = Access.Admin,
        ["ListEnrolledAgents"] = Access.Admin,
        ["RevokeAgent"] = Access.Admin,
        ["IssueAgentToken"] = Access.Operator,
        ["DrainAgent"] = Access.Operator,
        ["UncordonAgent"] = Access.Operator,
    };

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);

    private BrokerTestHost _broker = null!;
    private GrpcChannel _channel = null!;
    private string _viewer = "";
    private string _operator = "";
    private string _revoked = "";

    public static TheoryData<string> Methods()
    {
        var data = new TheoryData<string>();
        foreach (Google.Protobuf.Reflection.MethodDescriptor method in Protocol.V1.Broker.Descriptor.Methods)
        {
            data.Add(method.Name);
        }

        return data;
    }

    public async Task InitializeAsync()
    {
        _broker = await BrokerTestHost.StartAsync(output);
        _channel = GrpcChannel.ForAddress(_broker.Address);
        _viewer = (await _broker.Client.CreateApiKeyAsync(new CreateApiKeyRequest { Name = "dash", Role = ApiKeyRole.Viewer })).Secret;
        _operator = (await _broker.Client.CreateApiKeyAsync(new CreateApiKeyRequest { Name = "ci", Role = ApiKeyRole.Operator })).Secret;
        CreateApiKeyResponse revoked = await _broker.Client.CreateApiKeyAsync(new CreateApiKeyRequest { Name = "old", Role = ApiKeyRole.Admin });
        await _broker.Client.RevokeApiKeyAsync(new RevokeApiKeyRequest { Id = revoked.Key.Id });
        _revoked = revoked.Secret;
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _broker.DisposeAsync();
    }

    [Fact]
    public void EveryMethodHasAnExpectedAccess() =>
        Assert.Equal(
            Protocol.V1.Broker.Descriptor.Methods.Select(m => m.Name).Order(StringComparer.Ordinal),
            Expected.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task EachMethodAdmitsExactlyTheCallersItsAccessNames(string method)
    {
        Access access = Expected[method];
        if (access == Access.Agent)
        {
            // Agents authenticate with enrolment (EnrollmentTests); an operator key is no agent credential.
            return;
        }

        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(method, bearer: null));
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(method, "abk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(method, "not a key"));
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(method, _revoked));
        // A key's secret with one character changed is a different, unknown key.
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(method, _operator[..^1] + (_operator[^1] == 'A' ? 'B' : 'A')));

        bool viewerMay = access is Access.Viewer or Access.HostOrViewer;
        bool operatorMay = viewerMay || access is Access.Operator or Access.HostOrOperator;
        AssertAdmitted(await CallAsync(method, _broker.AdminKey), admitted: true, method, "admin");
        AssertAdmitted(await CallAsync(method, _operator), operatorMay, method, "operator");
        AssertAdmitted(await CallAsync(method, _viewer), viewerMay, method, "viewer");
    }

    [Fact]
    public async Task ARevokedKeyIsRefusedAtOnceAndItsRefusalNamesNoSecret()
    {
        CreateApiKeyResponse created = await _broker.Client.CreateApiKeyAsync(new CreateApiKeyRequest { Name = "temp", Role = ApiKeyRole.Operator });
        await _broker.ClientWith(created.Secret).ListSliceTypesAsync(new ListSliceTypesRequest());
        RevokeApiKeyResponse revoked = await _broker.Client.RevokeApiKeyAsync(new RevokeApiKeyRequest { Id = created.Key.Id });
        Assert.NotNull(revoked.Key.RevokedAt);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await _broker.ClientWith(created.Secret).ListSliceTypesAsync(new ListSliceTypesRequest()));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.DoesNotContain(created.Secret, refused.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Secret.Split('_', 3)[2], refused.Status.Detail, StringComparison.Ordinal);

        ListApiKeysResponse live = await _broker.Client.ListApiKeysAsync(new ListApiKeysRequest());
        Assert.DoesNotContain(live.Keys, k => k.Id == created.Key.Id);
        ListApiKeysResponse all = await _broker.Client.ListApiKeysAsync(new ListApiKeysRequest { IncludeRevoked = true });
        Assert.Contains(all.Keys, k => k.Id == created.Key.Id && k.RevokedAt is not null && k.CreatedBy.Contains("test-admin", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", ApiKeyRole.Viewer, StatusCode.InvalidArgument)]
    [InlineData("ok", ApiKeyRole.Host, StatusCode.InvalidArgument)]
    [InlineData("ok", ApiKeyRole.Unspecified, StatusCode.InvalidArgument)]
    public async Task BadKeyRequestsAreRefusedAndCreateNothing(string name, ApiKeyRole role, StatusCode expected)
    {
        int before = (await _broker.Client.ListApiKeysAsync(new ListApiKeysRequest { IncludeRevoked = true })).Keys.Count;
        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await _broker.Client.CreateApiKeyAsync(new CreateApiKeyRequest { Name = name, Role = role }));
        Assert.Equal(expected, refused.StatusCode);
        Assert.Equal(before, (await _broker.Client.ListApiKeysAsync(new ListApiKeysRequest { IncludeRevoked = true })).Keys.Count);

        RpcException unknown = await Assert.ThrowsAsync<RpcException>(async () => await _broker.Client.RevokeApiKeyAsync(new RevokeApiKeyRequest { Id = "0123456789abcdef" }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        RpcException malformed = await Assert.ThrowsAsync<RpcException>(async () => await _broker.Client.RevokeApiKeyAsync(new RevokeApiKeyRequest { Id = "../etc" }));
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
    }

    private static void AssertAdmitted(StatusCode code, bool admitted, string method, string role)
    {
        bool refused = code is StatusCode.Unauthenticated or StatusCode.PermissionDenied;
        Assert.True(admitted != refused, $"{method} as {role}: {code}");
        if (!admitted)
        {
            Assert.Equal(StatusCode.PermissionDenied, code);
        }
    }

    // An empty message of any request type: what the call does with it does not matter, only whether it got past the gate.
    private async Task<StatusCode> CallAsync(string method, string? bearer)
    {
        var call = new Method<byte[], byte[]>(MethodType.Unary, Protocol.V1.Broker.Descriptor.FullName, method, Raw, Raw);
        var headers = new Metadata();
        if (bearer is not null)
        {
            headers.Add("authorization", "Bearer " + bearer);
        }

        try
        {
            await _channel.CreateCallInvoker().AsyncUnaryCall(call, null, new CallOptions(headers, DateTime.UtcNow.AddSeconds(10)), []);
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }
}
