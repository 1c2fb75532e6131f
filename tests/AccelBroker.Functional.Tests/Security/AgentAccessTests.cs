using AccelBroker.Hosting.Tokens;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Tokens;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit;

namespace AccelBroker.Tests.Security;

/// <summary>
/// Every method of both agent services, from their descriptors, against every kind of bad token, and each token scope
/// against the scopes the method admits. The expected table is this test's own: a method added without a rule in the
/// agent's policy stops the agent; one added without a row here fails <see cref="EveryMethodHasAnExpectedAccess"/>.
/// </summary>
public sealed class AgentAccessTests : IAsyncLifetime
{
    private const string HeldSlice = "acc-access-held";
    private const string OtherHeldSlice = "acc-access-other";

    private static readonly AccessScope[] SliceOnly = [AccessScope.Slice];
    private static readonly AccessScope[] SliceOrOperator = [AccessScope.Slice, AccessScope.Operator];

    private static readonly Dictionary<string, AccessScope[]> Expected = new(StringComparer.Ordinal)
    {
        ["InferenceAgent/HasModel"] = SliceOrOperator,
        ["InferenceAgent/UploadModel"] = SliceOrOperator,
        ["InferenceAgent/LoadModel"] = SliceOnly,
        ["InferenceAgent/UnloadModel"] = SliceOnly,
        ["InferenceAgent/ListModels"] = SliceOnly,
        ["InferenceAgent/Run"] = SliceOnly,
        ["InferenceAgent/RunStream"] = SliceOnly,
        ["InferenceAgent/Echo"] = SliceOnly,
        ["InferenceAgent/EchoStream"] = SliceOnly,
        ["InferenceAgent/GetAgentInfo"] = SliceOrOperator,
        ["InferenceAgent/BenchmarkLocal"] = [AccessScope.Operator],
        ["AgentControl/AssignSlice"] = [AccessScope.Control],
        ["AgentControl/ReleaseSlice"] = [AccessScope.Control],
        ["AgentControl/ExportModel"] = [AccessScope.Control],
    };

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);

    private StandaloneAgent _agent = null!;
    private GrpcChannel _channel = null!;

    public static TheoryData<string> Methods()
    {
        var data = new TheoryData<string>();
        foreach (MethodDescriptor method in Services().SelectMany(s => s.Methods))
        {
            data.Add($"{method.Service.Name}/{method.Name}");
        }

        return data;
    }

    public async Task InitializeAsync()
    {
        _agent = await StandaloneAgent.StartAsync(o => o);
        _channel = GrpcChannel.ForAddress(_agent.Address);
        foreach (string slice in new[] { HeldSlice, OtherHeldSlice })
        {
            await _agent.Control.AssignSliceAsync(
                new AssignSliceRequest { Slice = new SliceAssignment { SliceId = slice, SliceType = "t", MemoryBytes = 64L << 20, ComputeShare = 0.1, Host = "h-" + slice } },
                deadline: StandaloneAgent.Deadline());
        }
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _agent.DisposeAsync();
    }

    [Fact]
    public void EveryMethodHasAnExpectedAccess() =>
        Assert.Equal(
            Services().SelectMany(s => s.Methods).Select(m => $"{m.Service.Name}/{m.Name}").Order(StringComparer.Ordinal),
            Expected.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task EachMethodRefusesEveryBadTokenAndAdmitsExactlyItsScopes(string method)
    {
        TestTokenIssuer issuer = _agent.Issuer;
        string agent = StandaloneAgent.AgentId;
        using var otherBroker = new TestTokenIssuer(kid: issuer.Kid);
        string good = issuer.Mint(AccessScope.Slice, agent, HeldSlice);

        await AssertRefusedAsync(method, null, StatusCode.Unauthenticated, "needs");
        await AssertRefusedAsync(method, "not a token", StatusCode.Unauthenticated, "not a well-formed JWT");
        await AssertRefusedAsync(method, Forged(good), StatusCode.Unauthenticated, "signature is not valid");
        await AssertRefusedAsync(method, issuer.Mint(AccessScope.Slice, agent, HeldSlice, TimeSpan.FromMinutes(5), issuedAt: DateTimeOffset.UtcNow.AddHours(-1)), StatusCode.Unauthenticated, "expired");
        // Another broker's key, even under the same key id: its signature does not verify with this broker's key.
        await AssertRefusedAsync(method, otherBroker.Mint(AccessScope.Slice, agent, HeldSlice), StatusCode.Unauthenticated, "signature");
        using var unknownKey = new TestTokenIssuer();
        await AssertRefusedAsync(method, unknownKey.Mint(AccessScope.Slice, agent, HeldSlice), StatusCode.Unauthenticated, "does not trust");
        await AssertRefusedAsync(method, issuer.Mint(AccessScope.Slice, "another-agent", HeldSlice), StatusCode.Unauthenticated, "not this agent");

        AccessScope[] admitted = Expected[method];
        foreach (AccessScope scope in Enum.GetValues<AccessScope>())
        {
            string token = issuer.Mint(scope, agent, scope == AccessScope.Slice ? HeldSlice : null);
            if (admitted.Contains(scope))
            {
                StatusCode status = await CallAsync(method, token);
                Assert.True(status is not (StatusCode.Unauthenticated or StatusCode.PermissionDenied), $"{method} refused a {scope} token: {status}");
            }
            else
            {
                await AssertRefusedAsync(method, token, StatusCode.PermissionDenied, "needs");
            }
        }

        if (admitted.Contains(AccessScope.Slice))
        {
            await AssertRefusedAsync(method, issuer.Mint(AccessScope.Slice, agent, "acc-not-held"), StatusCode.FailedPrecondition, "is not held by this agent");
        }
    }

    [Fact]
    public async Task ATokenForOneSliceCannotTouchAnotherSlicesModels()
    {
        var headers = new Metadata { { "authorization", "Bearer " + _agent.Issuer.Mint(AccessScope.Slice, StandaloneAgent.AgentId, HeldSlice) } };
        InferenceAgent.InferenceAgentClient client = _agent.Anonymous;

        foreach (Func<Task> call in new Func<Task>[]
        {
            async () => await client.ListModelsAsync(new ListModelsRequest { SliceId = OtherHeldSlice }, headers, StandaloneAgent.Deadline()),
            async () => await client.LoadModelAsync(new LoadModelRequest { SliceId = OtherHeldSlice, Sha256 = new string('a', 64) }, headers, StandaloneAgent.Deadline()),
            async () => await client.UnloadModelAsync(new UnloadModelRequest { SliceId = OtherHeldSlice, ModelId = "m" }, headers, StandaloneAgent.Deadline()),
            async () => await client.RunAsync(new RunRequest { SliceId = OtherHeldSlice, ModelId = "m" }, headers, StandaloneAgent.Deadline()),
            async () =>
            {
                using AsyncDuplexStreamingCall<RunStreamRequest, RunStreamResponse> stream = client.RunStream(headers, StandaloneAgent.Deadline());
                await stream.RequestStream.WriteAsync(new RunStreamRequest { Header = new RunStreamHeader { Request = new RunRequest { SliceId = OtherHeldSlice, ModelId = "m" } } });
                await stream.RequestStream.CompleteAsync();
                await stream.ResponseStream.MoveNext();
            },
        })
        {
            RpcException refused = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
            Assert.Equal($"the token is for slice '{HeldSlice}'; this request names slice '{OtherHeldSlice}'", refused.Status.Detail);
        }

        // The agent still serves its own slice with the same token.
        ListModelsResponse own = await client.ListModelsAsync(new ListModelsRequest { SliceId = HeldSlice }, headers, StandaloneAgent.Deadline());
        Assert.Equal(HeldSlice, own.SliceId);
    }

    [Fact]
    public async Task ASliceDoesNotSeeBytesAnotherSliceUploaded()
    {
        byte[] bytes = [.. await File.ReadAllBytesAsync(Fixtures.Path("demo_mlp.pt"))];
        string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        Metadata held = SliceHeaders(HeldSlice);
        Metadata other = SliceHeaders(OtherHeldSlice);
        InferenceAgent.InferenceAgentClient client = _agent.Anonymous;

        UploadModelResponse first = await UploadAsync(client, held, bytes, sha256);
        HasModelResponse seenByOther = await client.HasModelAsync(new HasModelRequest { Sha256 = sha256 }, other, StandaloneAgent.Deadline());
        RpcException loadByOther = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.LoadModelAsync(new LoadModelRequest { SliceId = OtherHeldSlice, Sha256 = sha256 }, other, StandaloneAgent.Deadline()));
        UploadModelResponse second = await UploadAsync(client, other, bytes, sha256);
        LoadModelResponse loaded = await client.LoadModelAsync(new LoadModelRequest { SliceId = OtherHeldSlice, Sha256 = sha256 }, other, StandaloneAgent.Deadline());

        Assert.True((await client.HasModelAsync(new HasModelRequest { Sha256 = sha256 }, held, StandaloneAgent.Deadline())).Held);
        Assert.False(seenByOther.Held);
        Assert.Equal(StatusCode.NotFound, loadByOther.StatusCode);
        Assert.Equal($"model sha256={sha256} was not uploaded through slice '{OtherHeldSlice}'; upload it first", loadByOther.Status.Detail);
        // Whether the bytes were new to the agent is the slice's view too: new through each slice.
        Assert.True(first.Stored);
        Assert.True(second.Stored);
        Assert.False(string.IsNullOrEmpty(loaded.ModelId));
    }

    private Metadata SliceHeaders(string slice) =>
        new() { { "authorization", "Bearer " + _agent.Issuer.Mint(AccessScope.Slice, StandaloneAgent.AgentId, slice) } };

    private static async Task<UploadModelResponse> UploadAsync(InferenceAgent.InferenceAgentClient client, Metadata headers, byte[] bytes, string sha256)
    {
        using AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> call = client.UploadModel(headers, StandaloneAgent.Deadline());
        await call.RequestStream.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = sha256, Length = bytes.Length } });
        await call.RequestStream.WriteAsync(new UploadModelRequest { Chunk = new ModelChunk { RawLength = bytes.Length, Data = ByteString.CopyFrom(bytes) } });
        await call.RequestStream.CompleteAsync();
        return await call;
    }

    private static IEnumerable<ServiceDescriptor> Services() => [InferenceAgent.Descriptor, AgentControl.Descriptor];

    // The same token with one character of its signature changed.
    private static string Forged(string token)
    {
        int at = token.Length - 5;
        char replacement = token[at] == 'A' ? 'B' : 'A';
        return token[..at] + replacement + token[(at + 1)..];
    }

    private async Task AssertRefusedAsync(string method, string? bearer, StatusCode expected, string reason)
    {
        (StatusCode status, string detail) = await CallWithDetailAsync(method, bearer);
        Assert.True(status == expected, $"{method} with {Describe(bearer)}: {status} '{detail}', expected {expected}");
        Assert.Contains(reason, detail, StringComparison.Ordinal);
        if (bearer is not null)
        {
            Assert.DoesNotContain(bearer, detail, StringComparison.Ordinal);
        }
    }

    private async Task<StatusCode> CallAsync(string method, string bearer) => (await CallWithDetailAsync(method, bearer)).Status;

    private async Task<(StatusCode Status, string Detail)> CallWithDetailAsync(string method, string? bearer)
    {
        string[] parts = method.Split('/');
        MethodDescriptor descriptor = Services().Single(s => s.Name == parts[0]).FindMethodByName(parts[1]);
        MethodType type = (descriptor.IsClientStreaming, descriptor.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            _ => MethodType.DuplexStreaming,
        };
        var call = new Method<byte[], byte[]>(type, descriptor.Service.FullName, descriptor.Name, Raw, Raw);
        var headers = new Metadata();
        if (bearer is not null)
        {
            headers.Add("authorization", "Bearer " + bearer);
        }

        var options = new CallOptions(headers, DateTime.UtcNow.AddSeconds(20));
        CallInvoker invoker = _channel.CreateCallInvoker();
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(call, null, options, []);
                    break;
                case MethodType.ClientStreaming:
                    using (AsyncClientStreamingCall<byte[], byte[]> streaming = invoker.AsyncClientStreamingCall(call, null, options))
                    {
                        await streaming.RequestStream.CompleteAsync();
                        await streaming;
                    }

                    break;
                case MethodType.ServerStreaming:
                    using (AsyncServerStreamingCall<byte[]> streaming = invoker.AsyncServerStreamingCall(call, null, options, []))
                    {
                        while (await streaming.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }
                    }

                    break;
                default:
                    using (AsyncDuplexStreamingCall<byte[], byte[]> duplex = invoker.AsyncDuplexStreamingCall(call, null, options))
                    {
                        await duplex.RequestStream.CompleteAsync();
                        while (await duplex.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }
                    }

                    break;
            }

            return (StatusCode.OK, "");
        }
        catch (RpcException ex)
        {
            return (ex.StatusCode, ex.Status.Detail);
        }
    }

    private static string Describe(string? bearer) => bearer is null ? "no token" : "a token";
}
