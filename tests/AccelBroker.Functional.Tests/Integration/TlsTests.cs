using AccelBroker.Tests.Logging;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// A broker and an agent serving TLS on loopback with certificates from <c>accel certs</c>: the CLI and
/// <see cref="AcceleratorSession"/> work with <c>--ca-file</c>, and a client trusting another CA fails the handshake.
/// </summary>
public sealed class TlsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accel-tls-").FullName;
    private WebApplication? _broker;
    private WebApplication? _agent;

    private string CaFile => Path.Combine(_dir, "ca", "ca.crt");

    private string WrongCaFile => Path.Combine(_dir, "other", "ca.crt");

    private string BrokerUrl => _broker!.Urls.First();

    public async Task InitializeAsync()
    {
        await Cli("certs", "create-ca", "--out", Path.Combine(_dir, "ca"));
        await Cli("certs", "create-ca", "--out", Path.Combine(_dir, "other"), "--name", "Someone Else's CA");
        foreach (string name in new[] { "broker", "agent" })
        {
            await Cli("certs", "issue", "--ca", Path.Combine(_dir, "ca"), "--name", name, "--dns", "localhost", "--ip", "127.0.0.1", "--out", _dir);
        }

        _broker = BrokerHost.Build(new BrokerOptions
        {
            Listen = "https://127.0.0.1:0",
            TlsCertificateFile = Path.Combine(_dir, "broker.crt"),
            TlsKeyFile = Path.Combine(_dir, "broker.key"),
            CaFile = CaFile,
            HeartbeatInterval = TimeSpan.FromSeconds(0.5),
        },
        // Never the process's console: an in-process CLI test running meanwhile captures it as the verb's output.
        logging => logging.ClearProviders().AddSuiteScan());
        string adminKey = BrokerHost.CreateApiKey(_broker, "tls-admin");
        await _broker.StartAsync();
        TestCredentials.Register(BrokerUrl, adminKey);
        _agent = AgentHost.Build(new AgentOptions
        {
            Listen = "https://127.0.0.1:0",
            TlsCertificateFile = Path.Combine(_dir, "agent.crt"),
            TlsKeyFile = Path.Combine(_dir, "agent.key"),
            CaFile = CaFile,
            BrokerAddress = BrokerUrl,
            Device = "cpu",
            DataDirectory = Path.Combine(_dir, "models"),
            MemoryBytes = 4L * 1024 * 1024 * 1024,
        },
        logging => logging.ClearProviders().AddSuiteScan());
        await _agent.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (WebApplication? app in new[] { _agent, _broker })
        {
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task CliAndSessionWorkEndToEndOverTlsWithTheCaFile()
    {
        Assert.StartsWith("https://", BrokerUrl);
        string host = "tls-" + Guid.NewGuid().ToString("N")[..8];
        CliProcess.Result attached = await AttachWhenAgentRegisteredAsync(host);
        Assert.Contains("https://127.0.0.1:", attached.StdOut); // the agent's advertised address is https too

        string outputDir = Path.Combine(_dir, "out");
        CliProcess.Result ran = await CliInProcess.RunAsync(
            "run", Fixtures.Path("identity.pt"), "--host", host, "--ordinal", "0", "--input", Fixtures.Path("identity.input0.npy"),
            "--output-dir", outputDir, "--broker", BrokerUrl, "--ca-file", CaFile);
        Assert.True(ran.ExitCode == 0, ran.StdErr);
        Assert.True(File.Exists(Path.Combine(outputDir, "output_0.npy")));

        using AcceleratorSession session = await AcceleratorSession.OpenAsync(new AcceleratorSessionOptions { Broker = BrokerUrl, Host = host, Ordinal = 0, CaFile = CaFile, HostCredential = TestCredentials.KeyOf(BrokerUrl) });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("identity.pt"));
        Tensor input = Fixtures.Npy("identity.input0.npy");
        ModelOutput output = await session.RunAsync(model, [input]);
        Assert.True(input.Data.Span.SequenceEqual(output[0].Data.Span));
    }

    [Fact]
    public async Task AClientTrustingAnotherCaFailsTheHandshakeWithUnavailable()
    {
        RpcException session = await Assert.ThrowsAsync<RpcException>(() =>
            AcceleratorSession.OpenAsync(new AcceleratorSessionOptions { Broker = BrokerUrl, Host = "tls-wrong", Ordinal = 0, CaFile = WrongCaFile, HostCredential = TestCredentials.KeyOf(BrokerUrl) }));
        Assert.True(session.StatusCode == StatusCode.Unavailable, session.ToString());
        Assert.Contains("certificate (CN=broker) is not trusted", session.Status.Detail);

        CliProcess.Result cli = await CliInProcess.RunAsync("describe-agents", "--broker", BrokerUrl, "--ca-file", WrongCaFile);
        Assert.Equal(1, cli.ExitCode);
        Assert.StartsWith("accel: error: Unavailable: ", cli.StdErr);
        Assert.Contains("is not trusted", cli.StdErr);

        // Without a CA file the system store decides, and it does not know a private CA.
        using var fleet = new FleetClient(new FleetClientOptions { Broker = BrokerUrl, ApiKey = TestCredentials.KeyOf(BrokerUrl) });
        RpcException system = await Assert.ThrowsAsync<RpcException>(() => fleet.ListSliceTypesAsync());
        Assert.Equal(StatusCode.Unavailable, system.StatusCode);
        Assert.Contains("is not trusted: it does not chain to a CA in the system store", system.Status.Detail);
    }

    [Fact]
    public async Task TheServerCertificateIsReloadedWhenItsFilesChange()
    {
        using X509Certificate2 before = await ServedCertificateAsync();
        Assert.Equal("CN=broker", before.Subject);

        // A renewal: a new certificate for the same names, written over the served files.
        string renewed = Path.Combine(_dir, "renewed");
        await Cli("certs", "issue", "--ca", Path.Combine(_dir, "ca"), "--name", "broker", "--dns", "localhost", "--ip", "127.0.0.1", "--out", renewed);
        File.Copy(Path.Combine(renewed, "broker.crt"), Path.Combine(_dir, "broker.crt"), overwrite: true);
        File.Copy(Path.Combine(renewed, "broker.key"), Path.Combine(_dir, "broker.key"), overwrite: true);
        File.SetLastWriteTimeUtc(Path.Combine(_dir, "broker.crt"), DateTime.UtcNow.AddMinutes(1));
        using X509Certificate2 expected = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(renewed, "broker.crt"));

        DateTime giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string served = before.SerialNumber;
        while (served != expected.SerialNumber && DateTime.UtcNow < giveUp)
        {
            await Task.Delay(500);
            using X509Certificate2 now = await ServedCertificateAsync();
            served = now.SerialNumber;
        }

        Assert.Equal(expected.SerialNumber, served);
        using var fleet = new FleetClient(new FleetClientOptions { Broker = BrokerUrl, CaFile = CaFile, ApiKey = TestCredentials.KeyOf(BrokerUrl) });
        Assert.NotEmpty(await fleet.ListSliceTypesAsync());
    }

    [Theory]
    [InlineData("https://127.0.0.1:0", null, null, "--listen 'https://127.0.0.1:0' is https: pass --tls-cert FILE and --tls-key FILE")]
    [InlineData("https://127.0.0.1:0", "broker.crt", null, "--tls-cert needs --tls-key")]
    [InlineData("https://127.0.0.1:0", null, "broker.key", "--tls-key needs --tls-cert")]
    [InlineData("http://127.0.0.1:0", "broker.crt", "broker.key", "--tls-cert and --tls-key serve https, but --listen 'http://127.0.0.1:0' is http")]
    public void BadTlsSettingsAreRefusedBeforeStart(string listen, string? certificate, string? key, string message)
    {
        var options = new BrokerOptions { Listen = listen, TlsCertificateFile = certificate, TlsKeyFile = key };
        BrokerConfigurationException broker = Assert.Throws<BrokerConfigurationException>(() => BrokerHost.Build(options));
        Assert.StartsWith(message, broker.Message);
        ArgumentException agent = Assert.Throws<ArgumentException>(() => AgentHost.Build(new AgentOptions { Listen = listen, TlsCertificateFile = certificate, TlsKeyFile = key, Device = "cpu" }));
        Assert.StartsWith(message, agent.Message);
    }

    [Fact]
    public void UnreadableTlsFilesAreRefusedWithTheFlagsNamed()
    {
        string notPem = Path.Combine(_dir, "not.pem");
        File.WriteAllText(notPem, "not a certificate");
        string message = $"--tls-cert {notPem} and --tls-key {notPem} are not a PEM certificate and its private key";

        BrokerConfigurationException broker = Assert.Throws<BrokerConfigurationException>(() =>
            BrokerHost.Build(new BrokerOptions { Listen = "https://127.0.0.1:0", TlsCertificateFile = notPem, TlsKeyFile = notPem }));
        Assert.StartsWith(message, broker.Message);
        ArgumentException agent = Assert.Throws<ArgumentException>(() =>
            AgentHost.Build(new AgentOptions { Listen = "https://127.0.0.1:0", TlsCertificateFile = notPem, TlsKeyFile = notPem, Device = "cpu" }));
        Assert.StartsWith(message, agent.Message);
    }

    private async Task<CliProcess.Result> AttachWhenAgentRegisteredAsync(string host)
    {
        DateTime giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            CliProcess.Result attached = await CliInProcess.RunAsync("attach", "--host", host, "--type", "eia2.medium", "--broker", BrokerUrl, "--ca-file", CaFile);
            if (attached.ExitCode == 0 || DateTime.UtcNow > giveUp || !attached.StdErr.Contains("ResourceExhausted"))
            {
                Assert.True(attached.ExitCode == 0, attached.StdErr);
                return attached;
            }

            await Task.Delay(200);
        }
    }

    private async Task<X509Certificate2> ServedCertificateAsync()
    {
        var uri = new Uri(BrokerUrl);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [SslApplicationProtocol.Http2],
        });
        Assert.Equal(SslApplicationProtocol.Http2, tls.NegotiatedApplicationProtocol);
        return X509CertificateLoader.LoadCertificate(tls.RemoteCertificate!.GetRawCertData());
    }

    private static async Task Cli(params string[] args)
    {
        CliProcess.Result result = await CliInProcess.RunAsync(args);
        Assert.True(result.ExitCode == 0, result.StdErr);
    }
}
