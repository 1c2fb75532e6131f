using System.Buffers;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Google.Protobuf;
using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>
/// Puts model bytes on an agent by content address: asks HasModel, uploads in chunks only when the agent lacks
/// them. Shared by sessions and by callers that reach an agent without a slice (agent-local benchmarks).
/// </summary>
internal static class ModelUploader
{
    /// <summary>Uploads the file unless the agent already holds its bytes; returns its hash and whether it was sent.</summary>
    public static async Task<(string Sha256, long Length, bool Uploaded)> EnsureHeldAsync(InferenceAgent.InferenceAgentClient agent, string path, bool compression, Func<DateTime> deadline, CancellationToken cancellationToken)
    {
        (string sha256, long length) = await ModelHashes.OfFileAsync(path, cancellationToken);
        HasModelResponse held = await agent.HasModelAsync(new HasModelRequest { Sha256 = sha256 }, deadline: deadline(), cancellationToken: cancellationToken);
        if (held.Held)
        {
            return (sha256, length, false);
        }

        await UploadFileAsync(agent, path, sha256, length, compression, deadline(), cancellationToken);
        return (sha256, length, true);
    }

    public static async Task UploadFileAsync(InferenceAgent.InferenceAgentClient agent, string path, string sha256, long length, bool compression, DateTime deadline, CancellationToken cancellationToken)
    {
        await using FileStream file = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(WireLimits.ModelChunkBytes);
        try
        {
            await UploadAsync(agent, sha256, length, compression, deadline, async ct =>
            {
                int read = await file.ReadAtLeastAsync(buffer.AsMemory(0, WireLimits.ModelChunkBytes), WireLimits.ModelChunkBytes, throwOnEndOfStream: false, ct);
                return buffer.AsMemory(0, read);
            }, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static Task UploadBytesAsync(InferenceAgent.InferenceAgentClient agent, ReadOnlyMemory<byte> model, string sha256, bool compression, DateTime deadline, CancellationToken cancellationToken)
    {
        int offset = 0;
        return UploadAsync(agent, sha256, model.Length, compression, deadline, _ =>
        {
            ReadOnlyMemory<byte> chunk = model.Slice(offset, Math.Min(WireLimits.ModelChunkBytes, model.Length - offset));
            offset += chunk.Length;
            return ValueTask.FromResult(chunk);
        }, cancellationToken);
    }

    private static async Task UploadAsync(InferenceAgent.InferenceAgentClient agent, string sha256, long length, bool compression, DateTime deadline, Func<CancellationToken, ValueTask<ReadOnlyMemory<byte>>> nextChunk, CancellationToken cancellationToken)
    {
        using AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> call = agent.UploadModel(deadline: deadline, cancellationToken: cancellationToken);
        try
        {
            await SendAsync(call.RequestStream, sha256, length, compression, nextChunk, cancellationToken);
        }
        catch (Exception written) when (EarlyServerStatus.MayHide(written, cancellationToken))
        {
            // Refused before the last chunk (a full store, a concurrent-upload limit): the agent's status says why.
            throw await EarlyServerStatus.ExplainAsync(() => call.ResponseAsync, written);
        }

        await call;
    }

    // Each chunk is written (serialized) before the next read reuses the buffer, so wrapping it is safe.
    private static async Task SendAsync(IClientStreamWriter<UploadModelRequest> requests, string sha256, long length, bool compression, Func<CancellationToken, ValueTask<ReadOnlyMemory<byte>>> nextChunk, CancellationToken cancellationToken)
    {
        Compression wire = compression ? Compression.Lz4 : Compression.None;
        await requests.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = sha256, Length = length, Compression = wire } }, cancellationToken);
        bool compress = compression;
        while (true)
        {
            ReadOnlyMemory<byte> raw = await nextChunk(cancellationToken);
            if (raw.IsEmpty)
            {
                break;
            }

            var chunk = new ModelChunk { RawLength = raw.Length };
            // Weights rarely compress: stop trying after the first chunk that does not shrink.
            byte[]? compressed = compress ? Lz4Block.TryCompress(raw.Span) : null;
            if (compressed is not null)
            {
                chunk.Compression = Compression.Lz4;
                chunk.Data = UnsafeByteOperations.UnsafeWrap(compressed);
            }
            else
            {
                compress = false;
                chunk.Data = UnsafeByteOperations.UnsafeWrap(raw);
            }

            await requests.WriteAsync(new UploadModelRequest { Chunk = chunk }, cancellationToken);
        }

        await requests.CompleteAsync();
    }
}
