using AccelBroker.Broker.Tokens;
using AccelBroker.Hosting.Startup;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace AccelBroker.Broker.Agents;

/// <summary>
/// Calls agents over gRPC with a deadline of <see cref="BrokerOptions.AgentCallTimeout"/>, keeping one
/// channel per agent address for the life of the broker (disposed with the host). Every call carries a control token
/// for the agent's id, reused until most of its life has passed. The channels present the broker's client certificate,
/// if it has one, to agents that require mutual TLS.
/// </summary>
internal sealed class GrpcAgentControlClient(BrokerOptions options, AccessTokenMinter tokens, ClientCertificate clientCertificate, TimeProvider time) : IAgentControlClient, IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Metadata Headers, DateTimeOffset RenewAt)> _controlTokens = new(StringComparer.Ordinal);
    private bool _disposed;

    public async Task AssignSliceAsync(string agentId, string agentAddress, SliceAssignment slice, CancellationToken ct)
    {
        var client = new AgentControl.AgentControlClient(ChannelFor(agentAddress));
        await client.AssignSliceAsync(new AssignSliceRequest { Slice = slice }, HeadersFor(agentId), Deadline(), ct);
    }

    public async Task ReleaseSliceAsync(string agentId, string agentAddress, string sliceId, CancellationToken ct)
    {
        var client = new AgentControl.AgentControlClient(ChannelFor(agentAddress));
        await client.ReleaseSliceAsync(new ReleaseSliceRequest { SliceId = sliceId }, HeadersFor(agentId), Deadline(), ct);
    }

    public async Task<IReadOnlyList<SliceModel>> ListModelsAsync(SlicePlace place, CancellationToken ct)
    {
        var client = new InferenceAgent.InferenceAgentClient(ChannelFor(place.AgentAddress));
        ListModelsResponse listed = await client.ListModelsAsync(new ListModelsRequest { SliceId = place.SliceId }, SliceHeaders(place), Deadline(), ct);
        return listed.Models;
    }

    public async Task CopyModelAsync(SlicePlace from, SlicePlace to, string sha256, CancellationToken ct)
    {
        DateTime deadline = DateTime.UtcNow + options.ModelHandoverTimeout;
        var source = new InferenceAgent.InferenceAgentClient(ChannelFor(from.AgentAddress));
        HasModelResponse held = await source.HasModelAsync(new HasModelRequest { Sha256 = sha256 }, SliceHeaders(from), deadline, ct);
        if (!held.Held)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"slice {from.SliceId} on agent {from.AgentId} no longer has model {sha256}"));
        }

        var target = new InferenceAgent.InferenceAgentClient(ChannelFor(to.AgentAddress));
        if ((await target.HasModelAsync(new HasModelRequest { Sha256 = sha256 }, SliceHeaders(to), deadline, ct)).Held)
        {
            return;
        }

        var exporter = new AgentControl.AgentControlClient(ChannelFor(from.AgentAddress));
        using AsyncServerStreamingCall<ModelChunk> export = exporter.ExportModel(new ExportModelRequest { SliceId = from.SliceId, Sha256 = sha256 }, HeadersFor(from.AgentId), deadline, ct);
        using AsyncClientStreamingCall<UploadModelRequest, UploadModelResponse> upload = target.UploadModel(SliceHeaders(to), deadline, ct);
        await upload.RequestStream.WriteAsync(new UploadModelRequest { Header = new UploadModelHeader { Sha256 = sha256, Length = held.Length } }, ct);
        await foreach (ModelChunk chunk in export.ResponseStream.ReadAllAsync(ct))
        {
            await upload.RequestStream.WriteAsync(new UploadModelRequest { Chunk = chunk }, ct);
        }

        await upload.RequestStream.CompleteAsync();
        await upload.ResponseAsync;
    }

    public async Task LoadModelAsync(SlicePlace place, LoadModelRequest request, CancellationToken ct)
    {
        var client = new InferenceAgent.InferenceAgentClient(ChannelFor(place.AgentAddress));
        await client.LoadModelAsync(request, SliceHeaders(place), DateTime.UtcNow + options.ModelHandoverTimeout, ct);
    }

    public void Dispose()
    {
        GrpcChannel[] channels;
        lock (_lock)
        {
            _disposed = true;
            channels = [.. _channels.Values];
            _channels.Clear();
        }

        foreach (GrpcChannel channel in channels)
        {
            channel.Dispose();
        }
    }

    // gRPC deadlines are wall-clock times, independent of the injected TimeProvider.
    private DateTime Deadline() => DateTime.UtcNow + options.AgentCallTimeout;

    // A slice token the broker signs for itself, as a client of that placement would hold.
    private Metadata SliceHeaders(SlicePlace place) =>
        new() { { "authorization", "Bearer " + tokens.Slice(place.AgentId, place.Host, place.SliceId, place.Epoch).Token } };

    private Metadata HeadersFor(string agentId)
    {
        DateTimeOffset now = time.GetUtcNow();
        lock (_lock)
        {
            if (_controlTokens.TryGetValue(agentId, out (Metadata Headers, DateTimeOffset RenewAt) cached) && now < cached.RenewAt)
            {
                return cached.Headers;
            }
        }

        SignedToken token = tokens.Control(agentId);
        var headers = new Metadata { { "authorization", "Bearer " + token.Token } };
        // Renewed at 80 % of its life, so a call never leaves with a token about to expire.
        DateTimeOffset renewAt = now + ((token.ExpiresAt - now) * 0.8);
        lock (_lock)
        {
            _controlTokens[agentId] = (headers, renewAt);
        }

        return headers;
    }

    private GrpcChannel ChannelFor(string agentAddress)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_channels.TryGetValue(agentAddress, out GrpcChannel? channel))
            {
                channel = ServerTrust.Channel(agentAddress, options.CaFile, clientCertificate);
                _channels.Add(agentAddress, channel);
            }

            return channel;
        }
    }
}
