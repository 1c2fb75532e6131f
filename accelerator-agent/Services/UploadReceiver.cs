using System.Buffers;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Models;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Services;

/// <summary>
/// Receives one model upload into the store within the agent's limits: a declared length checked before any byte
/// is written, room among the uploads in progress reserved for it, each chunk bounded before it is decompressed, and
/// an idle timeout. However an upload ends, its partial file, its descriptor and its reservation go with it.
/// </summary>
internal sealed class UploadReceiver
{
    private readonly ModelStore _store;
    private readonly UploadAdmission _admission;
    private readonly AgentOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<UploadReceiver> _logger;

    public UploadReceiver(ModelStore store, UploadAdmission admission, AgentOptions options, TimeProvider time, ILogger<UploadReceiver> logger)
    {
        _store = store;
        _admission = admission;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public async Task<UploadModelResponse> ReceiveAsync(IAsyncStreamReader<UploadModelRequest> requestStream, CancellationToken cancellationToken)
    {
        try
        {
            using var idle = new StreamIdleWatch(_options.UploadIdleTimeout, _time, cancellationToken, limit: "UploadIdleTimeout");
            return await ReceiveCoreAsync(requestStream, idle, cancellationToken);
        }
        catch (DomainException ex)
        {
            AgentLog.UploadRejected(_logger, ex.Message);
            throw;
        }
    }

    private async Task<UploadModelResponse> ReceiveCoreAsync(IAsyncStreamReader<UploadModelRequest> requests, StreamIdleWatch idle, CancellationToken cancellationToken)
    {
        if (!await idle.MoveNextAsync(requests) || requests.Current.KindCase != UploadModelRequest.KindOneofCase.Header)
        {
            throw DomainException.Invalid("the first upload message must be the header (sha256, length, compression)");
        }

        UploadModelHeader header = requests.Current.Header;
        string sha256 = header.Sha256.ToLowerInvariant();
        if (!ModelStore.IsSha256(sha256))
        {
            throw DomainException.Invalid($"sha256 must be 64 hex digits, got '{header.Sha256}'");
        }

        if (header.Length <= 0 || header.Length > _options.MaxModelBytes)
        {
            throw DomainException.Invalid($"model length must be between 1 and {_options.MaxModelBytes} bytes, got {header.Length} (the agent's MaxModelMib limit)");
        }

        // Disposed in reverse: the partial file goes first, then the upload's share of the limits.
        using UploadAdmission.Reservation reservation = _admission.Admit(header.Length);
        using ModelUpload upload = _store.BeginUpload(sha256, header.Length);
        byte[] decompressed = ArrayPool<byte>.Shared.Rent(WireLimits.ModelChunkBytes);
        try
        {
            while (await idle.MoveNextAsync(requests))
            {
                await AppendChunkAsync(upload, requests.Current, decompressed, cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(decompressed);
        }

        bool stored = await upload.CompleteAsync(cancellationToken);
        AgentLog.ModelStored(_logger, sha256, header.Length);
        return new UploadModelResponse { Sha256 = sha256, Length = header.Length, Stored = stored };
    }

    private static async Task AppendChunkAsync(ModelUpload upload, UploadModelRequest message, byte[] decompressed, CancellationToken cancellationToken)
    {
        if (message.KindCase != UploadModelRequest.KindOneofCase.Chunk)
        {
            throw DomainException.Invalid("only chunks may follow the upload header");
        }

        ModelChunk chunk = message.Chunk;
        if (chunk.RawLength <= 0 || chunk.RawLength > WireLimits.ModelChunkBytes)
        {
            throw DomainException.Invalid($"chunk raw_length must be between 1 and {WireLimits.ModelChunkBytes} bytes, got {chunk.RawLength}");
        }

        // An endless stream stops at the first chunk past the declared length, before that chunk is decompressed.
        if (upload.Received + chunk.RawLength > upload.Length)
        {
            throw ModelUpload.PastAnnouncedLength(upload.Length);
        }

        ReadOnlyMemory<byte> data = chunk.Data.Memory;
        if (chunk.Compression == Compression.Lz4)
        {
            try
            {
                // Into a buffer of at most one chunk: a block that claims more cannot make the agent allocate it.
                Lz4Block.Decompress(data.Span, decompressed.AsSpan(0, chunk.RawLength));
                data = decompressed.AsMemory(0, chunk.RawLength);
            }
            catch (InvalidDataException ex)
            {
                throw DomainException.Invalid($"chunk at byte {upload.Received}: {ex.Message}");
            }
        }
        else if (chunk.Compression is not (Compression.None or Compression.Unspecified))
        {
            throw DomainException.Invalid($"unknown chunk compression {(int)chunk.Compression}");
        }

        if (data.Length != chunk.RawLength)
        {
            throw DomainException.Invalid($"chunk at byte {upload.Received} has {data.Length} bytes but says {chunk.RawLength}");
        }

        await upload.AppendAsync(data, cancellationToken);
    }
}
