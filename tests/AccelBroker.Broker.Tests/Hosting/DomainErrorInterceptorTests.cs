using AccelBroker.Hosting.Errors;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Hosting;

/// <summary>The one mapping of domain failures to gRPC status, for every call shape both hosts serve.</summary>
public sealed class DomainErrorInterceptorTests
{
    private const string Message = "unknown model 'm' on slice 's'";

    private readonly DomainErrorInterceptor _interceptor = new();

    public static TheoryData<DomainErrorKind, StatusCode> Codes => new()
    {
        { DomainErrorKind.InvalidInput, StatusCode.InvalidArgument },
        { DomainErrorKind.NotFound, StatusCode.NotFound },
        { DomainErrorKind.ResourceExhausted, StatusCode.ResourceExhausted },
        { DomainErrorKind.FailedPrecondition, StatusCode.FailedPrecondition },
        { DomainErrorKind.DeadlineExceeded, StatusCode.DeadlineExceeded },
        { DomainErrorKind.Cancelled, StatusCode.Cancelled },
        { DomainErrorKind.Unavailable, StatusCode.Unavailable },
        { DomainErrorKind.DataLoss, StatusCode.DataLoss },
        { DomainErrorKind.Internal, StatusCode.Internal },
        { DomainErrorKind.Unauthenticated, StatusCode.Unauthenticated },
        { DomainErrorKind.PermissionDenied, StatusCode.PermissionDenied },
        { DomainErrorKind.AlreadyExists, StatusCode.AlreadyExists },
    };

    [Fact]
    public void EveryKindHasACode()
    {
        Assert.Equal(Enum.GetValues<DomainErrorKind>().Length, Codes.Count);
    }

    [Theory]
    [MemberData(nameof(Codes))]
    public async Task AUnaryCallIsAnsweredWithTheKindsCodeAndTheMessageAsDetail(DomainErrorKind kind, StatusCode code)
    {
        RpcException ex = await Assert.ThrowsAsync<RpcException>(() => _interceptor.UnaryServerHandler<string, string>(
            "request", new FakeServerCallContext(), (_, _) => throw new DomainException(kind, Message)));

        Assert.Equal(code, ex.StatusCode);
        Assert.Equal(Message, ex.Status.Detail);
        Assert.Equal(kind, DomainErrorStatus.KindOf(code));
    }

    [Fact]
    public async Task StreamingCallsAreMappedToo()
    {
        var context = new FakeServerCallContext();
        RpcException server = await Assert.ThrowsAsync<RpcException>(() => _interceptor.ServerStreamingServerHandler<string, string>(
            "request", null!, context, (_, _, _) => throw DomainException.NotFound(Message)));
        RpcException client = await Assert.ThrowsAsync<RpcException>(() => _interceptor.ClientStreamingServerHandler<string, string>(
            null!, context, async (_, _) =>
            {
                await Task.Yield();
                throw DomainException.Invalid(Message);
            }));
        RpcException duplex = await Assert.ThrowsAsync<RpcException>(() => _interceptor.DuplexStreamingServerHandler<string, string>(
            null!, null!, context, (_, _, _) => throw DomainException.Exhausted(Message)));

        Assert.Equal((StatusCode.NotFound, Message), (server.StatusCode, server.Status.Detail));
        Assert.Equal((StatusCode.InvalidArgument, Message), (client.StatusCode, client.Status.Detail));
        Assert.Equal((StatusCode.ResourceExhausted, Message), (duplex.StatusCode, duplex.Status.Detail));
    }

    [Fact]
    public async Task OtherExceptionsPassThroughUnchanged()
    {
        var fault = new InvalidOperationException("a bug, not a request's fault");
        var rpc = new RpcException(new Status(StatusCode.PermissionDenied, "set by the handler"));

        Exception passed = await Assert.ThrowsAsync<InvalidOperationException>(() => _interceptor.UnaryServerHandler<string, string>(
            "request", new FakeServerCallContext(), (_, _) => throw fault));
        Exception passedRpc = await Assert.ThrowsAsync<RpcException>(() => _interceptor.UnaryServerHandler<string, string>(
            "request", new FakeServerCallContext(), (_, _) => throw rpc));

        Assert.Same(fault, passed);
        Assert.Same(rpc, passedRpc);
    }

    [Fact]
    public async Task ASuccessfulCallIsUntouched()
    {
        string response = await _interceptor.UnaryServerHandler<string, string>(
            "request", new FakeServerCallContext(), (request, _) => Task.FromResult(request + " answered"));

        Assert.Equal("request answered", response);
    }

    [Fact]
    public void ACodeNoKindStandsForIsInternal()
    {
        Assert.Equal(DomainErrorKind.Internal, DomainErrorStatus.KindOf(StatusCode.Unknown));
        Assert.Equal(DomainErrorKind.Internal, DomainErrorStatus.KindOf(StatusCode.Aborted));
    }
}
