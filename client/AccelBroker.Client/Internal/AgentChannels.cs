using System.Collections.Concurrent;
using Grpc.Net.Client;

namespace AccelBroker.Client.Internal;

/// <summary>
/// One gRPC channel per agent address for the whole process, reused by every session: channels pool
/// their HTTP/2 connections and are meant to live long, like HttpClient.
/// </summary>
internal static class AgentChannels
{
    private static readonly ConcurrentDictionary<(string Address, TimeSpan ConnectTimeout, string? CaFile), Lazy<GrpcChannel>> Channels = new();

    /// <summary>The process's channel to <paramref name="address"/>; with <paramref name="caFile"/>, https servers must chain to its CAs.</summary>
    public static GrpcChannel Get(string address, TimeSpan connectTimeout, string? caFile = null) =>
        Channels.GetOrAdd((address, connectTimeout, caFile), key => new Lazy<GrpcChannel>(() => Create(key.Address, key.ConnectTimeout, key.CaFile))).Value;

    public static GrpcChannel Create(string address, TimeSpan connectTimeout, string? caFile = null) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            // Outputs of a unary run may exceed 4 MB; the agent streams only large inputs.
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = connectTimeout,
                EnableMultipleHttp2Connections = true,
                // Large tensors: a bigger receive window avoids a round trip per 64 KiB.
                InitialHttp2StreamWindowSize = 16 * 1024 * 1024,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(60),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
                // Without a CA file the system store decides, as for any https client.
                SslOptions = new() { RemoteCertificateValidationCallback = ServerTrust.Callback(caFile) },
            },
        });
}
