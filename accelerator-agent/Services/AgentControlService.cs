using System.Buffers;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace AccelBroker.Agent.Services;

/// <summary>Slice placement calls from the broker.</summary>
internal sealed class AgentControlService : AgentControl.AgentControlBase
{
    // As uploads travel: large enough to keep the stream busy, small enough for one message.
    private const int ExportChunkBytes = 1024 * 1024;

    private readonly SliceRegistry _slices;
    private readonly ModelStore _store;

    public AgentControlService(SliceRegistry slices, ModelStore store)
    {
        _slices = slices;
        _store = store;
    }

    /// <summary>Streams the bytes of a model uploaded through the slice, checked against their hash as they are read.</summary>
    public override async Task ExportModel(ExportModelRequest request, IServerStreamWriter<ModelChunk> responseStream, ServerCallContext context)
    {
        if (!_slices.TryGet(request.SliceId, out AcceleratorSlice? slice))
        {
            throw DomainException.NotFound($"slice '{request.SliceId}' is not held by this agent");
        }

        if (!ModelStore.IsSha256(request.Sha256) || !slice.KnowsBytes(request.Sha256))
        {
            throw DomainException.NotFound($"slice '{request.SliceId}' has no model sha256={request.Sha256}");
        }

        string path = _store.VerifiedPath(request.Sha256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ExportChunkBytes);
        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, useAsync: true);
            int read;
            while ((read = await file.ReadAsync(buffer.AsMemory(0, ExportChunkBytes), context.CancellationToken)) > 0)
            {
                await responseStream.WriteAsync(new ModelChunk { RawLength = read, Data = ByteString.CopyFrom(buffer, 0, read) }, context.CancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override Task<AssignSliceResponse> AssignSlice(AssignSliceRequest request, ServerCallContext context)
    {
        if (request.Slice is null)
        {
            throw DomainException.Invalid("slice is required");
        }

        _slices.Assign(request.Slice);
        return Task.FromResult(new AssignSliceResponse());
    }

    public override Task<ReleaseSliceResponse> ReleaseSlice(ReleaseSliceRequest request, ServerCallContext context)
    {
        // Idempotent: releasing a slice that is already gone is success.
        _slices.Release(request.SliceId);
        return Task.FromResult(new ReleaseSliceResponse());
    }
}
