using Grpc.Net.Client;

namespace AccelBroker.Hosting.Startup;

/// <summary>
/// How a host's own outgoing calls (broker to agent, agent to broker) verify an https peer: against a private CA
/// given as a PEM file, or the system store when none is given. The check is the client library's, so a host and an
/// application refuse the same certificates with the same words.
/// </summary>
public static class ServerTrust
{
    /// <summary>
    /// A channel to <paramref name="address"/>; with <paramref name="caFile"/>, an https server must present a
    /// certificate that chains to a CA in that file and names the address's host. With
    /// <paramref name="clientCertificate"/>, the channel presents it to servers that ask for one (mutual TLS).
    /// </summary>
    /// <exception cref="InvalidDataException">The CA file holds no PEM certificate.</exception>
    public static GrpcChannel Channel(string address, string? caFile, ClientCertificate? clientCertificate = null)
    {
        if (caFile is null && clientCertificate is not { IsPresented: true })
        {
            return GrpcChannel.ForAddress(address);
        }

        var handler = new SocketsHttpHandler();
        if (caFile is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = Client.Internal.ServerTrust.Callback(caFile);
        }

        clientCertificate?.Apply(handler.SslOptions);
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler });
    }
}
