using AccelBroker.Protocol.V1;
using AccelBroker.Hosting.Startup;
using Grpc.Net.Client;

namespace AccelBroker.Broker.Agents;

/// <summary>
/// Calls agents over gRPC with a deadline of <see cref="BrokerOptions.AgentCallTimeout"/>, keeping one
/// channel per agent address for the life of the broker (disposed with the host). The channels present the broker's
/// client certificate, if it has one, to agents that require mutual TLS.
/// </summary>
internal sealed class GrpcAgentControlClient(BrokerOptions options, ClientCertificate clientCertificate) : IAgentControlClient, IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private bool _disposed;

    public async Task AssignSliceAsync(string agentAddress, SliceAssignment slice, CancellationToken ct)
    {
        var client = new AgentControl.AgentControlClient(ChannelFor(agentAddress));
        await client.AssignSliceAsync(new AssignSliceRequest { Slice = slice }, deadline: Deadline(), cancellationToken: ct);
    }

    public async Task ReleaseSliceAsync(string agentAddress, string sliceId, CancellationToken ct)
    {
        var client = new AgentControl.AgentControlClient(ChannelFor(agentAddress));
        await client.ReleaseSliceAsync(new ReleaseSliceRequest { SliceId = sliceId }, deadline: Deadline(), cancellationToken: ct);
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
