using System.Net.Http;
using AccelBroker.Client.Internal;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Client;

/// <summary>A call cut off by a server closing its connection (shutting down) is Unavailable, like an unreachable one.</summary>
public sealed class ConnectionLossInterceptorTests
{
    [Fact]
    public void AConnectionClosedWithNoErrorIsUnavailable()
    {
        var closed = new HttpRequestException("error", new HttpProtocolException(0, "The HTTP/2 server closed the connection. HTTP/2 error code 'NO_ERROR' (0x0).", null));
        var error = new RpcException(new Status(StatusCode.Internal, "Error starting gRPC call.", closed));

        RpcException? translated = ConnectionLossInterceptor.AsUnavailable(error);

        Assert.NotNull(translated);
        Assert.Equal(StatusCode.Unavailable, translated.StatusCode);
        Assert.Contains("the server closed the connection", translated.Status.Detail);
        Assert.Same(closed, translated.Status.DebugException);
    }

    [Theory]
    [InlineData(StatusCode.Internal, 2L)]      // INTERNAL_ERROR: a real protocol failure stays Internal
    [InlineData(StatusCode.InvalidArgument, 0L)]
    public void OtherErrorsAreLeftAsTheyAre(StatusCode code, long http2ErrorCode)
    {
        var error = new RpcException(new Status(code, "x", new HttpProtocolException(http2ErrorCode, "x", null)));

        Assert.Null(ConnectionLossInterceptor.AsUnavailable(error));
        Assert.Null(ConnectionLossInterceptor.AsUnavailable(new RpcException(new Status(StatusCode.Internal, "no exception"))));
    }
}
