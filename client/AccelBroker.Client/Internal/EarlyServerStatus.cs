using System.Net.Http;
using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>
/// A server may end a streaming call while the client is still sending: a run refused at its header (queue full, an
/// unknown model, a refused token), an upload refused at its first chunk. The pending write then fails as
/// <see cref="StatusCode.Cancelled"/>, or with the raw <see cref="HttpRequestException"/> or <see cref="IOException"/>
/// of a closed HTTP/2 stream, often before grpc-dotnet has read the trailers that say why. The server's status is the
/// answer callers need, and the one the session's recovery acts on (a refused token is renewed).
/// </summary>
internal static class EarlyServerStatus
{
    // The trailers are already on the wire when the server ends the call; the bound only covers a connection that
    // died at the same moment.
    private static readonly TimeSpan TrailersWait = TimeSpan.FromSeconds(2);

    /// <summary>Whether <paramref name="writeFailed"/> may hide the server's status: the stream was cut off, not by the caller.</summary>
    public static bool MayHide(Exception writeFailed, CancellationToken cancellationToken) =>
        writeFailed is RpcException { StatusCode: StatusCode.Cancelled } or HttpRequestException or IOException
        && !cancellationToken.IsCancellationRequested;

    /// <summary>
    /// The server's status if <paramref name="responseEnded"/> (the response, read past its end) fails with one, else
    /// <paramref name="writeFailed"/> as an <see cref="RpcException"/>: a stream closed without a status is a lost
    /// connection (<see cref="StatusCode.Unavailable"/>), which the session recovers from as such.
    /// </summary>
    public static async Task<RpcException> ExplainAsync(Func<Task> responseEnded, Exception writeFailed)
    {
        try
        {
            await responseEnded().WaitAsync(TrailersWait).ConfigureAwait(false);
        }
        catch (RpcException server) when (server.StatusCode != StatusCode.Cancelled)
        {
            return server;
        }
        catch (Exception ex) when (ex is RpcException or TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            // Nothing better than the write's own error: the call was cut off without a status.
        }

        return writeFailed as RpcException
            ?? new RpcException(new Status(StatusCode.Unavailable, $"the stream to the server was cut off while sending: {writeFailed.Message}", writeFailed));
    }
}
