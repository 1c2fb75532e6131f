using AccelBroker.Client.Internal;
using Grpc.Net.Client;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>A short-lived broker client for one verb.</summary>
internal sealed class BrokerConnection : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);
    private readonly GrpcChannel _channel;

    public BrokerConnection(string address)
    {
        _channel = AgentChannels.Create(address, TimeSpan.FromSeconds(5));
        Client = new Protocol.V1.Broker.BrokerClient(_channel);
    }

    public Protocol.V1.Broker.BrokerClient Client { get; }

    public static DateTime Deadline => DateTime.UtcNow + CallTimeout;

    public void Dispose() => _channel.Dispose();
}
