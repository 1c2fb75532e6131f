using AccelBroker.Tests.Logging;
using System.Security.Cryptography;
using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Client;
using AccelBroker.Hosting.Startup;
using AccelBroker.Hosting.Tokens;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Broker and agents requiring mutual TLS (<c>--client-ca-file</c>) on loopback, with certificates from <c>accel certs</c>:
/// AgentControl and agent registration need a client certificate from that CA, a certificate from another CA fails the
/// handshake, and callers without one (inference clients, operators) are served as before.
/// </summary>
public sealed class MutualTlsTests : IAsyncLifetime
{
    private const string Required = "requires a client certificate signed by --client-ca-file";
    private const string StandaloneAgentId = "agent-mtls";
    private const string TokenKeyId = "mtls-test-key";

    private readonly string _dir = Directory.CreateTempSubdirectory("accel-mtls-").FullName;
    private readonly List<WebApplication> _apps = [];
    private readonly List<GrpcChannel> _channels = [];

    // Stands in for the broker's signing key, so an agent without a broker accepts the tokens the tests sign.
    private readonly ECDsa _tokenKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private string CaFile => Path.Combine(_dir, "ca", "ca.crt");

    private string OtherCaFile => Path.Combine(_dir, "other", "ca.crt");

    public async Task InitializeAsync()
    {
        await Cli("certs", "create-ca", "--out", Path.Combine(_dir, "ca"));
        await Cli("certs", "create-ca", "--out", Path.Combine(_dir, "other"), "--name", "Someone Else's CA");
        foreach (string name in new[] { "broker", "agent" })
        {
            await Cli("certs", "issue", "--ca", Path.Combine(_dir, "ca"), "--name", name, "--dns", "localhost", "--ip", "127.0.0.1", "--out", _dir);
            await Cli("certs", "issue", "--ca", Path.Combine(_dir, "ca"), "--name", name + "-client", "--client", "--out", _dir);
        }

        await Cli("certs", "issue", "--ca", Path.Combine(_dir, "other"), "--name", "rogue", "--client", "--out", _dir);
    }

    public async Task DisposeAsync()
    {
        foreach (GrpcChannel channel in _channels)
        {
            channel.Dispose();
        }

        // Agents first: their last heartbeat goes to a broker still there.
        for (int i = _apps.Count - 1; i >= 0; i--)
        {
            await _apps[i].StopAsync();
            await _apps[i].DisposeAsync();
        }

        _tokenKey.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task AgentControlNeedsAClientCertificateFromTheClientCa()
    {
        var logs = new RecordingLoggerProvider();
        string agent = await StartAgentAsync(brokerUrl: null, clientCertificate: null, logs);

        // A valid control token does not stand in for the certificate.
        RpcException without = await Assert.ThrowsAsync<RpcException>(async () => await Control(agent, clientCertificate: null).AssignSliceAsync(Assignment("acc-none"), Token(AccessScope.Control)));
        Assert.Equal(StatusCode.Unauthenticated, without.StatusCode);
        Assert.Equal($"AgentControl {Required} (the caller presents one with --tls-client-cert and --tls-client-key)", without.Status.Detail);
        RpcException release = await Assert.ThrowsAsync<RpcException>(async () => await Control(agent, clientCertificate: null).ReleaseSliceAsync(new ReleaseSliceRequest { SliceId = "acc-none" }, Token(AccessScope.Control)));
        Assert.Equal(StatusCode.Unauthenticated, release.StatusCode);

        // Another CA's certificate is refused in the handshake, so no call is made at all. With TLS 1.3 the client may
        // finish its side before the server checks the certificate, and then sees the HTTP/2 preface fail instead:
        // Unavailable or Internal, both raised by the client library, never by the service.
        RpcException rogue = await Assert.ThrowsAsync<RpcException>(async () => await Control(agent, "rogue").AssignSliceAsync(Assignment("acc-rogue"), Token(AccessScope.Control)));
        Assert.True(RefusedInHandshake(rogue), rogue.ToString());

        // A server certificate of the right CA does not allow client authentication.
        RpcException server = await Assert.ThrowsAsync<RpcException>(async () => await Control(agent, "broker").AssignSliceAsync(Assignment("acc-server"), Token(AccessScope.Control)));
        Assert.True(RefusedInHandshake(server), server.ToString());

        // The client only sees its connection closed; the agent's operator is told why.
        Assert.Contains(logs.Messages, m => m.Name == "ClientCertificateRefused" && m.Message.Contains("CN=rogue (issued by CN=Someone Else's CA)", StringComparison.Ordinal));
        Assert.Contains(logs.Messages, m => m.Name == "ClientCertificateRefused" && m.Message.Contains("CN=broker (", StringComparison.Ordinal) && m.Message.Contains("NotValidForUsage", StringComparison.Ordinal));

        // The broker's client certificate is admitted, and the agent keeps serving after the refusals.
        AgentControl.AgentControlClient broker = Control(agent, "broker-client");
        await broker.AssignSliceAsync(Assignment("acc-mtls"), Token(AccessScope.Control));
        await broker.ReleaseSliceAsync(new ReleaseSliceRequest { SliceId = "acc-mtls" }, Token(AccessScope.Control));
    }

    [Fact]
    public async Task InferenceCallsNeedNoClientCertificate()
    {
        string agent = await StartAgentAsync(brokerUrl: null, clientCertificate: null);

        var inference = new InferenceAgent.InferenceAgentClient(Channel(agent, clientCertificate: null));
        GetAgentInfoResponse info = await inference.GetAgentInfoAsync(new GetAgentInfoRequest(), Token(AccessScope.Operator));

        Assert.Equal("cpu", info.Device.Kind);
    }

    [Fact]
    public async Task AnAgentWithoutAClientCertificateCannotRegister()
    {
        string broker = await StartBrokerAsync();
        var withoutCertificate = new Protocol.V1.Broker.BrokerClient(Channel(broker, clientCertificate: null));

        RpcException register = await Assert.ThrowsAsync<RpcException>(async () => await withoutCertificate.RegisterAgentAsync(Registration()));
        Assert.Equal(StatusCode.Unauthenticated, register.StatusCode);
        Assert.StartsWith($"RegisterAgent {Required}", register.Status.Detail);
        RpcException heartbeat = await Assert.ThrowsAsync<RpcException>(async () => await withoutCertificate.HeartbeatAsync(new HeartbeatRequest { AgentId = "agent-x" }));
        Assert.Equal(StatusCode.Unauthenticated, heartbeat.StatusCode);
        Assert.StartsWith($"Heartbeat {Required}", heartbeat.Status.Detail);
        RpcException enrol = await Assert.ThrowsAsync<RpcException>(async () => await withoutCertificate.EnrollAgentAsync(new EnrollAgentRequest()));
        Assert.Equal(StatusCode.Unauthenticated, enrol.StatusCode);
        Assert.StartsWith($"EnrollAgent {Required}", enrol.Status.Detail);

        RpcException rogue = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Protocol.V1.Broker.BrokerClient(Channel(broker, "rogue")).RegisterAgentAsync(Registration()));
        Assert.True(RefusedInHandshake(rogue), rogue.ToString());

        // A real agent without one is told why, and the broker lists no agent.
        var logs = new RecordingLoggerProvider();
        await StartAgentAsync(broker, clientCertificate: null, logs);
        DateTime giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!logs.Messages.Any(m => m.Name == "CredentialRefused") && DateTime.UtcNow < giveUp)
        {
            await Task.Delay(100);
        }

        Assert.Contains(logs.Messages, m => m.Name == "CredentialRefused" && m.Message.Contains($"RegisterAgent {Required}", StringComparison.Ordinal));
        using var fleet = new FleetClient(new FleetClientOptions { Broker = broker, CaFile = CaFile, ApiKey = TestCredentials.KeyOf(broker) });
        Assert.Empty(await fleet.DescribeAgentsAsync());
    }

    [Fact]
    public async Task AnAgentWithAClientCertificateRegistersAndOperatorsNeedNone()
    {
        string broker = await StartBrokerAsync();

        RegisterAgentResponse registered = await new Protocol.V1.Broker.BrokerClient(Channel(broker, "agent-client")).RegisterAgentAsync(Registration());

        Assert.NotEmpty(registered.AgentId);
        using var fleet = new FleetClient(new FleetClientOptions { Broker = broker, CaFile = CaFile, ApiKey = TestCredentials.KeyOf(broker) });
        Assert.Contains(await fleet.DescribeAgentsAsync(), a => a.AgentId == registered.AgentId);
        Assert.NotEmpty(await fleet.ListSliceTypesAsync());
    }

    [Fact]
    public async Task AFleetWithMutualTlsBothWaysServesASessionEndToEnd()
    {
        string broker = await StartBrokerAsync();
        await StartAgentAsync(broker, "agent-client");
        string host = "mtls-" + Guid.NewGuid().ToString("N")[..8];

        // The attach assigns the slice over AgentControl, which only the broker's client certificate opens.
        using var fleet = new FleetClient(new FleetClientOptions { Broker = broker, CaFile = CaFile, ApiKey = TestCredentials.KeyOf(broker) });
        Accelerator accelerator = await AttachWhenAgentRegisteredAsync(fleet, host);
        Assert.StartsWith("https://127.0.0.1:", accelerator.AgentAddress);

        // The client host presents no certificate: inference does not need one.
        using AcceleratorSession session = await AcceleratorSession.OpenAsync(new AcceleratorSessionOptions { Broker = broker, Host = host, Ordinal = 0, CaFile = CaFile, HostCredential = TestCredentials.KeyOf(broker) });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("identity.pt"));
        Tensor input = Fixtures.Npy("identity.input0.npy");
        ModelOutput output = await session.RunAsync(model, [input]);
        Assert.True(input.Data.Span.SequenceEqual(output[0].Data.Span));
    }

    [Theory]
    [InlineData("https", "client.crt", null, null, "--tls-client-cert needs --tls-client-key")]
    [InlineData("https", null, "client.key", null, "--tls-client-key needs --tls-client-cert")]
    [InlineData("http", null, null, "ca.crt", "--client-ca-file requires client certificates, which only TLS carries, but --listen 'http://127.0.0.1:0' is http")]
    public void BadMutualTlsSettingsAreRefusedBeforeStart(string scheme, string? clientCertificate, string? clientKey, string? clientCa, string message)
    {
        bool https = scheme == "https";
        string? certificate = https ? Path.Combine(_dir, "broker.crt") : null;
        string? key = https ? Path.Combine(_dir, "broker.key") : null;
        string listen = $"{scheme}://127.0.0.1:0";

        BrokerConfigurationException broker = Assert.Throws<BrokerConfigurationException>(() => BrokerHost.Build(new BrokerOptions
        {
            Listen = listen, TlsCertificateFile = certificate, TlsKeyFile = key, TlsClientCertificateFile = clientCertificate, TlsClientKeyFile = clientKey, ClientCaFile = clientCa,
        }));
        Assert.StartsWith(message, broker.Message);
        ArgumentException agent = Assert.Throws<ArgumentException>(() => AgentHost.Build(new AgentOptions
        {
            Listen = listen, TlsCertificateFile = certificate, TlsKeyFile = key, TlsClientCertificateFile = clientCertificate, TlsClientKeyFile = clientKey, ClientCaFile = clientCa, Device = "cpu",
        }));
        Assert.StartsWith(message, agent.Message);
    }

    [Fact]
    public void UnreadableMutualTlsFilesAreRefusedWithTheFlagsNamed()
    {
        string notPem = Path.Combine(_dir, "not.pem");
        File.WriteAllText(notPem, "not a certificate");
        string missing = Path.Combine(_dir, "missing.crt");
        (string? ClientCertificate, string? ClientKey, string? ClientCa, string Message)[] cases =
        [
            (notPem, notPem, null, $"--tls-client-cert {notPem} and --tls-client-key {notPem} are not a PEM certificate and its private key"),
            (null, null, notPem, $"--client-ca-file {notPem} holds no PEM certificate"),
            (null, null, missing, $"--client-ca-file {missing} is not a readable PEM CA bundle"),
        ];

        foreach ((string? clientCertificate, string? clientKey, string? clientCa, string message) in cases)
        {
            BrokerConfigurationException broker = Assert.Throws<BrokerConfigurationException>(() => BrokerHost.Build(new BrokerOptions
            {
                Listen = "https://127.0.0.1:0", TlsCertificateFile = Path.Combine(_dir, "broker.crt"), TlsKeyFile = Path.Combine(_dir, "broker.key"),
                TlsClientCertificateFile = clientCertificate, TlsClientKeyFile = clientKey, ClientCaFile = clientCa,
            }));
            Assert.StartsWith(message, broker.Message);
            ArgumentException agent = Assert.Throws<ArgumentException>(() => AgentHost.Build(new AgentOptions
            {
                Listen = "https://127.0.0.1:0", TlsCertificateFile = Path.Combine(_dir, "agent.crt"), TlsKeyFile = Path.Combine(_dir, "agent.key"),
                TlsClientCertificateFile = clientCertificate, TlsClientKeyFile = clientKey, ClientCaFile = clientCa, Device = "cpu",
            }));
            Assert.StartsWith(message, agent.Message);
        }
    }

    private async Task<string> StartBrokerAsync()
    {
        WebApplication broker = BrokerHost.Build(new BrokerOptions
        {
            Listen = "https://127.0.0.1:0",
            TlsCertificateFile = Path.Combine(_dir, "broker.crt"),
            TlsKeyFile = Path.Combine(_dir, "broker.key"),
            CaFile = CaFile,
            TlsClientCertificateFile = Path.Combine(_dir, "broker-client.crt"),
            TlsClientKeyFile = Path.Combine(_dir, "broker-client.key"),
            ClientCaFile = CaFile,
            HeartbeatInterval = TimeSpan.FromSeconds(0.5),
        },
        QuietConsole);
        _apps.Add(broker);
        string adminKey = BrokerHost.CreateApiKey(broker, "mtls-admin");
        await broker.StartAsync();
        string url = broker.Urls.First();
        TestCredentials.Register(url, adminKey);
        return url;
    }

    private async Task<string> StartAgentAsync(string? brokerUrl, string? clientCertificate, RecordingLoggerProvider? logs = null)
    {
        WebApplication agent = AgentHost.Build(
            new AgentOptions
            {
                Listen = "https://127.0.0.1:0",
                TlsCertificateFile = Path.Combine(_dir, "agent.crt"),
                TlsKeyFile = Path.Combine(_dir, "agent.key"),
                CaFile = CaFile,
                TlsClientCertificateFile = clientCertificate is null ? null : Path.Combine(_dir, clientCertificate + ".crt"),
                TlsClientKeyFile = clientCertificate is null ? null : Path.Combine(_dir, clientCertificate + ".key"),
                ClientCaFile = CaFile,
                BrokerAddress = brokerUrl,
                AgentId = brokerUrl is null ? StandaloneAgentId : null,
                Device = "cpu",
                DataDirectory = Path.Combine(_dir, "models-" + Guid.NewGuid().ToString("N")[..8]),
                MemoryBytes = 4L * 1024 * 1024 * 1024,
            },
            logging =>
            {
                QuietConsole(logging);
                if (logs is not null)
                {
                    logging.AddProvider(logs);
                }
            },
            services =>
            {
                if (brokerUrl is null)
                {
                    var verifier = new AccessTokenVerifier(TimeProvider.System);
                    verifier.Trust([new TrustedKey(TokenKeyId, _tokenKey.ExportSubjectPublicKeyInfo(), NotAfter: null)]);
                    services.AddSingleton(verifier);
                }
            });
        _apps.Add(agent);
        await agent.StartAsync();
        return agent.Urls.First();
    }

    // A token for the standalone agent, signed with the key it trusts, as the broker would sign it.
    private Metadata Token(AccessScope scope)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var grant = new AccessGrant(scope, StandaloneAgentId, scope == AccessScope.Control ? AccessGrant.BrokerSubject : "mtls-test", SliceId: null, now.AddMinutes(5));
        return new Metadata { { "authorization", "Bearer " + AccessTokenIssuer.Issue(TokenKeyId, _tokenKey, grant, now) } };
    }

    private AgentControl.AgentControlClient Control(string agentUrl, string? clientCertificate) => new(Channel(agentUrl, clientCertificate));

    // A channel trusting the fleet's CA, presenting NAME.crt (or nothing).
    private GrpcChannel Channel(string url, string? clientCertificate)
    {
        ClientCertificate presented = clientCertificate is null
            ? ClientCertificate.None
            : ClientCertificate.FromFiles(Path.Combine(_dir, clientCertificate + ".crt"), Path.Combine(_dir, clientCertificate + ".key"), TimeProvider.System);
        GrpcChannel channel = ServerTrust.Channel(url, CaFile, presented);
        _channels.Add(channel);
        return channel;
    }

    private static AssignSliceRequest Assignment(string sliceId) => new()
    {
        Slice = new SliceAssignment { SliceId = sliceId, SliceType = "eia2.medium", MemoryBytes = 256L * 1024 * 1024, ComputeShare = 0.25, Host = "mtls-host", Ordinal = 0 },
    };

    private static RegisterAgentRequest Registration() => new()
    {
        Address = "https://127.0.0.1:1",
        Device = new DeviceInfo { Kind = "cpu", Name = "test" },
        Capacity = new AgentCapacity { MemoryBytes = 1L << 30, Compute = 1 },
    };

    private static async Task<Accelerator> AttachWhenAgentRegisteredAsync(FleetClient fleet, string host)
    {
        DateTime giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return await fleet.AttachAsync(host, "eia2.medium");
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted && DateTime.UtcNow < giveUp)
            {
                await Task.Delay(200);
            }
        }
    }

    private static async Task Cli(params string[] args)
    {
        CliProcess.Result result = await CliInProcess.RunAsync(args);
        Assert.True(result.ExitCode == 0, result.StdErr);
    }

    // How a client sees a TLS handshake the server aborted: before its side finished (Unavailable), or after, when the
    // HTTP/2 preface then fails (Internal "did not complete the HTTP/2 handshake"). Either way no call reached the service.
    private static bool RefusedInHandshake(RpcException error) =>
        error.StatusCode == StatusCode.Unavailable
        || (error.StatusCode == StatusCode.Internal && error.Status.Detail.Contains("HTTP/2 handshake", StringComparison.Ordinal));

    // Never the process's console: an in-process CLI test running meanwhile captures it as the verb's output.
    private static void QuietConsole(ILoggingBuilder logging) => logging.ClearProviders().AddSuiteScan();
}
