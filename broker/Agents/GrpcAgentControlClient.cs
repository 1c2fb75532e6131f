using AccelBroker.Broker.Tokens;
using AccelBroker.Hosting.Startup;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace AccelBroker.Broker.Agents;

/// <summary>
/// Calls agents over gRPC with a deadline of <see cref="BrokerOptions.AgentCallTimeout"/>, keeping one
/// channel per agent address for the life of the broker (disposed with the host). Every call carries a control token
/// for the agent's id, reused until most of its life has passed.
/// </summary>
internal sealed class GrpcAgentControlClient(BrokerOptions options, AccessTokenMinter tokens, TimeProvider time) : IAgentControlClient, IDisposable
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
                channel = ServerTrust.Channel(agentAddress, options.CaFile);
                _channels.Add(agentAddress, channel);
            }

            return channel;
        }
    }
}
