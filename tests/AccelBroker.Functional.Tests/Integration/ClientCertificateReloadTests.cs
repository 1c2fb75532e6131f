using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using AccelBroker.Hosting.Startup;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// The client certificate a host presents (<c>--tls-client-cert</c>/<c>--tls-client-key</c>) as a TLS server that asks for
/// one receives it: a renewal written over the files is presented on the next connection, without a restart.
/// </summary>
public sealed class ClientCertificateReloadTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accel-client-cert-").FullName;

    private string CertificateFile => Path.Combine(_dir, "presented.crt");

    private string KeyFile => Path.Combine(_dir, "presented.key");

    public async Task InitializeAsync()
    {
        string ca = Path.Combine(_dir, "ca");
        await Cli("certs", "create-ca", "--out", ca);
        await Cli("certs", "issue", "--ca", ca, "--name", "server", "--dns", "localhost", "--ip", "127.0.0.1", "--out", _dir);
        await Cli("certs", "issue", "--ca", ca, "--name", "broker-client", "--client", "--out", Path.Combine(_dir, "first"));
        await Cli("certs", "issue", "--ca", ca, "--name", "broker-client", "--client", "--out", Path.Combine(_dir, "renewed"));
        File.Copy(Path.Combine(_dir, "first", "broker-client.crt"), CertificateFile);
        File.Copy(Path.Combine(_dir, "first", "broker-client.key"), KeyFile);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ARenewedClientCertificateIsPresentedOnTheNextConnection()
    {
        using X509Certificate2 server = X509Certificate2.CreateFromPemFile(Path.Combine(_dir, "server.crt"), Path.Combine(_dir, "server.key"));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        ClientCertificate presented = ClientCertificate.FromFiles(CertificateFile, KeyFile, time);
        Assert.True(presented.IsPresented);

        Assert.Equal(SerialOf(Path.Combine(_dir, "first", "broker-client.crt")), await PresentedSerialAsync(listener, server, presented));

        File.Copy(Path.Combine(_dir, "renewed", "broker-client.crt"), CertificateFile, overwrite: true);
        File.Copy(Path.Combine(_dir, "renewed", "broker-client.key"), KeyFile, overwrite: true);
        File.SetLastWriteTimeUtc(CertificateFile, DateTime.UtcNow.AddMinutes(1));
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(SerialOf(Path.Combine(_dir, "renewed", "broker-client.crt")), await PresentedSerialAsync(listener, server, presented));
    }

    // One connection from a host channel to a TLS server that asks for a client certificate: the serial it received.
    private async Task<string> PresentedSerialAsync(TcpListener listener, X509Certificate2 serverCertificate, ClientCertificate presented)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task<string> accepted = Task.Run(async () =>
        {
            using TcpClient tcp = await listener.AcceptTcpClientAsync(cancel.Token);
            await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificate = serverCertificate,
                    ClientCertificateRequired = true,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                },
                cancel.Token);
            if (tls.RemoteCertificate is null)
            {
                return "none";
            }

            using X509Certificate2 received = X509CertificateLoader.LoadCertificate(tls.RemoteCertificate.GetRawCertData());
            return received.SerialNumber;
        });

        using GrpcChannel channel = ServerTrust.Channel($"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}", Path.Combine(_dir, "ca", "ca.crt"), presented);
        try
        {
            // The server speaks no HTTP/2: only its handshake matters here.
            await new Protocol.V1.Broker.BrokerClient(channel).ListSliceTypesAsync(new ListSliceTypesRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        }
        catch (RpcException)
        {
        }

        return await accepted;
    }

    private static string SerialOf(string certificateFile)
    {
        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificateFromFile(certificateFile);
        return certificate.SerialNumber;
    }

    private static async Task Cli(params string[] args)
    {
        CliProcess.Result result = await CliInProcess.RunAsync(args);
        Assert.True(result.ExitCode == 0, result.StdErr);
    }
}
