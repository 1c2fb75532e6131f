using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace AccelBroker.Benchmarks;

/// <summary>
/// The machine's transport ceiling: a loopback TCP echo in this process, with no HTTP/2, gRPC or protobuf. Each call
/// sends a 4-byte length and the payload; the server reads the whole frame into a reused buffer in reads of up to
/// 1 MiB and writes it back; the client reads the echo into a reused buffer. Buffers are allocated once, so no
/// call pays first-touch page faults.
/// </summary>
internal sealed class RawTcpEcho : IAsyncDisposable
{
    private const int ReadBytes = 1024 * 1024;
    private readonly Socket _listener;
    private readonly Socket _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _received;
    private readonly byte[] _header = new byte[4];
    private Task _serving = Task.CompletedTask;

    private RawTcpEcho(Socket listener, Socket client, int largestPayload)
    {
        _listener = listener;
        _client = client;
        _received = GC.AllocateUninitializedArray<byte>(largestPayload);
    }

    public static async Task<RawTcpEcho> StartAsync(int largestPayload)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accepted = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        Socket server = await accepted;
        server.NoDelay = true;
        var echo = new RawTcpEcho(listener, client, largestPayload);
        echo._serving = Task.Run(() => echo.ServeAsync(server, largestPayload));
        return echo;
    }

    /// <summary>One round trip of <paramref name="payload"/>.</summary>
    public async Task EchoAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_header, payload.Length);
        await _client.SendAsync(_header, SocketFlags.None, cancellationToken);
        await _client.SendAsync(payload, SocketFlags.None, cancellationToken);
        await ReadExactlyAsync(_client, _received.AsMemory(0, payload.Length), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _client.Dispose();
        _listener.Dispose();
        try
        {
            await _serving;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task ServeAsync(Socket server, int largestPayload)
    {
        using (server)
        {
            byte[] frame = GC.AllocateUninitializedArray<byte>(largestPayload);
            byte[] header = new byte[4];
            while (!_stop.IsCancellationRequested)
            {
                if (!await ReadExactlyAsync(server, header, _stop.Token))
                {
                    return;
                }

                int length = BinaryPrimitives.ReadInt32LittleEndian(header);
                await ReadExactlyAsync(server, frame.AsMemory(0, length), _stop.Token);
                await server.SendAsync(frame.AsMemory(0, length), SocketFlags.None, _stop.Token);
            }
        }
    }

    // False when the peer closed before the first byte.
    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> into, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < into.Length)
        {
            int n = await socket.ReceiveAsync(into.Slice(read, Math.Min(ReadBytes, into.Length - read)), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                return read == 0 && into.Length > 0 ? false : throw new EndOfStreamException("the echo's peer closed mid-frame");
            }

            read += n;
        }

        return true;
    }
}
