using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Google.Protobuf;
using Grpc.Core;

namespace AccelBroker.Client;

// The transport baselines: the agent's echo calls, over the same channel, token and marshalling as runs.
public sealed partial class AcceleratorSession
{
    /// <summary>Sends <paramref name="payload"/> to the agent and back: a connectivity check and a transport baseline.</summary>
    /// <param name="payload">Bytes to echo.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The echoed bytes.</returns>
    public async Task<ReadOnlyMemory<byte>> EchoAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        EchoResponse response = await EchoOnceAsync(payload, cancellationToken);
        return response.Payload.Memory;
    }

    /// <summary>
    /// Sends <paramref name="payload"/> to the agent and back into <paramref name="destination"/>: the transport
    /// baseline as a run sees it, received into memory that is reused rather than allocated per call.
    /// </summary>
    /// <param name="payload">Bytes to echo.</param>
    /// <param name="destination">Where the echoed bytes go; at least as long as <paramref name="payload"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of bytes echoed into <paramref name="destination"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="payload"/>.</exception>
    public async Task<int> EchoIntoAsync(ReadOnlyMemory<byte> payload, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, payload.Length, nameof(destination));
        EchoResponse response = await EchoOnceAsync(payload, cancellationToken);
        ReadOnlySpan<byte> echoed = response.Payload.Span;
        if (echoed.Length > destination.Length)
        {
            throw new InvalidDataException($"the agent echoed {echoed.Length} bytes, more than the {payload.Length} sent");
        }

        echoed.CopyTo(destination.Span);
        PooledMarshallers.PooledOf(response)?.Release();
        return echoed.Length;
    }

    /// <summary>
    /// Streams <paramref name="payload"/> to the agent and back in the chunks a large tensor travels in: the
    /// transport baseline for runs whose inputs exceed one message.
    /// </summary>
    /// <param name="payload">Bytes to echo; any length.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The echoed bytes.</returns>
    public async Task<ReadOnlyMemory<byte>> EchoStreamAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        byte[] echoed = GC.AllocateUninitializedArray<byte>(payload.Length);
        int length = await EchoStreamIntoAsync(payload, echoed, cancellationToken);
        return echoed.AsMemory(0, length);
    }

    /// <summary>
    /// Streams <paramref name="payload"/> to the agent and back into <paramref name="destination"/>, in the chunks a
    /// large tensor travels in: the streaming transport baseline with the echoed bytes received into reused memory,
    /// as a run's outputs are.
    /// </summary>
    /// <param name="payload">Bytes to echo; any length.</param>
    /// <param name="destination">Where the echoed bytes go; at least as long as <paramref name="payload"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of bytes echoed, always the payload's length.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="payload"/>.</exception>
    public Task<int> EchoStreamIntoAsync(ReadOnlyMemory<byte> payload, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, payload.Length, nameof(destination));
        return WithRecoveryAsync((placement, deadline, ct) => EchoStreamOnceAsync(placement, payload, destination, deadline, ct), cancellationToken);
    }

    private Task<EchoResponse> EchoOnceAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var request = new EchoRequest { Payload = UnsafeByteOperations.UnsafeWrap(payload) };
        return WithRecoveryAsync(
            (placement, deadline, ct) => placement.Invoker.AsyncUnaryCall(PooledAgentMethods.Echo, null, new CallOptions(deadline: deadline, cancellationToken: ct), request).ResponseAsync,
            cancellationToken);
    }

    private static async Task<int> EchoStreamOnceAsync(Placement placement, ReadOnlyMemory<byte> payload, Memory<byte> destination, DateTime deadline, CancellationToken cancellationToken)
    {
        using AsyncDuplexStreamingCall<EchoRequest, EchoResponse> call =
            placement.Invoker.AsyncDuplexStreamingCall(PooledAgentMethods.EchoStream, null, new CallOptions(deadline: deadline, cancellationToken: cancellationToken));
        // Read while writing, as a streaming run does, so neither side's flow-control window stalls the other.
        Task<int> receive = ReceiveEchoAsync(call.ResponseStream, destination[..payload.Length], cancellationToken);
        try
        {
            for (int offset = 0; offset < payload.Length; offset += WireLimits.StreamChunkBytes)
            {
                ReadOnlyMemory<byte> chunk = payload.Slice(offset, Math.Min(WireLimits.StreamChunkBytes, payload.Length - offset));
                await call.RequestStream.WriteAsync(new EchoRequest { Payload = UnsafeByteOperations.UnsafeWrap(chunk) }, cancellationToken);
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (Exception written) when (EarlyServerStatus.MayHide(written, cancellationToken))
        {
            throw await EarlyServerStatus.ExplainAsync(() => receive, written);
        }

        return await receive;
    }

    private static async Task<int> ReceiveEchoAsync(IAsyncStreamReader<EchoResponse> responses, Memory<byte> echoed, CancellationToken cancellationToken)
    {
        int received = 0;
        while (await responses.MoveNext(cancellationToken))
        {
            EchoResponse message = responses.Current;
            ReadOnlySpan<byte> chunk = message.Payload.Span;
            if (chunk.Length > echoed.Length - received)
            {
                throw new InvalidDataException($"the agent echoed more than the {echoed.Length} bytes sent");
            }

            chunk.CopyTo(echoed.Span[received..]);
            received += chunk.Length;
            PooledMarshallers.PooledOf(message)?.Release();
        }

        return received == echoed.Length
            ? received
            : throw new InvalidDataException($"the agent echoed {received} of {echoed.Length} bytes");
    }
}
