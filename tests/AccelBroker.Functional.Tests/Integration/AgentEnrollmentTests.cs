using System.Diagnostics;
using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Integration;

/// <summary>A real CPU agent enrolling with a real broker that requires enrolment, on loopback.</summary>
public sealed class AgentEnrollmentTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);
    private readonly string _agentDirectory = Directory.CreateTempSubdirectory("accel-enrol-agent-").FullName;
    private readonly RecordingLoggerProvider _logs = new();
    private readonly List<WebApplication> _apps = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (WebApplication app in Enumerable.Reverse(_apps).ToList())
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        Directory.Delete(_agentDirectory, recursive: true);
    }

    [Fact]
    public async Task AnAgentEnrolsOnceKeepsItsCredentialAcrossARestartAndIsRefusedOnceRevoked()
    {
        WebApplication broker = await StartAsync(BrokerHost.Build(
            new BrokerOptions { Listen = "http://127.0.0.1:0", RequireAgentEnrollment = true, HeartbeatInterval = TimeSpan.FromSeconds(1) },
            logging => Log(logging, "broker")));
        string brokerUrl = broker.Urls.First();
        TestCredentials.Register(brokerUrl, BrokerHost.CreateApiKey(broker, "test-admin"));
        string token = BrokerEnrollmentTokens.Create(broker.Services, "cpu-1");
        string tokenFile = Path.Combine(_agentDirectory, "token");
        string credentialFile = Path.Combine(_agentDirectory, "credential");
        await File.WriteAllTextAsync(tokenFile, token);

        WebApplication agent = await StartAgentAsync(brokerUrl, tokenFile, credentialFile);
        AgentDescription first = await WaitForAgentAsync(brokerUrl, agent.Urls.First());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credentialFile));
        }

        string credential = (await File.ReadAllTextAsync(credentialFile)).Trim();
        Assert.StartsWith("aba_", credential, StringComparison.Ordinal);

        // The token was single-use: a restarted agent gets in only because it reuses its credential file.
        await agent.StopAsync();
        WebApplication restarted = await StartAgentAsync(brokerUrl, tokenFile, credentialFile);
        AgentDescription second = await WaitForAgentAsync(brokerUrl, restarted.Urls.First());
        Assert.Equal(first.AgentId, second.AgentId);

        using GrpcChannel channel = GrpcChannel.ForAddress(brokerUrl);
        var client = new BrokerClient(channel.Intercept(TestCredentials.Adding(brokerUrl)));
        await client.RevokeAgentAsync(new RevokeAgentRequest { AgentId = first.AgentId }, deadline: TestCluster.Deadline());
        Assert.DoesNotContain((await client.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline())).Agents,
            a => a.AgentId == first.AgentId);
        await WaitForLogAsync("CredentialRefused");

        Assert.DoesNotContain(_logs.Messages, m => m.Message.Contains(token, StringComparison.Ordinal) || m.Message.Contains(credential, StringComparison.Ordinal));
    }

    private async Task<WebApplication> StartAgentAsync(string brokerUrl, string tokenFile, string credentialFile) =>
        await StartAsync(AgentHost.Build(
            new AgentOptions
            {
                Listen = "http://127.0.0.1:0",
                BrokerAddress = brokerUrl,
                Device = "cpu",
                DataDirectory = Path.Combine(_agentDirectory, "models"),
                MemoryBytes = 4L << 30,
                MetricsListen = null,
                EnrollmentTokenFile = tokenFile,
                CredentialFile = credentialFile,
            },
            logging => Log(logging, "agent")));

    private async Task<WebApplication> StartAsync(WebApplication app)
    {
        _apps.Add(app);
        await app.StartAsync();
        return app;
    }

    private void Log(ILoggingBuilder logging, string prefix)
    {
        logging.ClearProviders();
        logging.AddProvider(new TestOutputLoggerProvider(output, prefix));
        logging.AddProvider(_logs);
        logging.SetMinimumLevel(LogLevel.Debug);
    }

    private async Task WaitForLogAsync(string eventName)
    {
        var waited = Stopwatch.StartNew();
        for (int i = 0; i < 300 && waited.Elapsed < WaitLimit && !_logs.Messages.Any(m => m.Name == eventName); i++)
        {
            await Task.Delay(100);
        }

        Assert.Contains(_logs.Messages, m => m.Name == eventName);
    }

    private static async Task<AgentDescription> WaitForAgentAsync(string brokerUrl, string agentUrl)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(brokerUrl);
        var broker = new BrokerClient(channel.Intercept(TestCredentials.Adding(brokerUrl)));
        var waited = Stopwatch.StartNew();
        for (int i = 0; i < 300 && waited.Elapsed < WaitLimit; i++)
        {
            DescribeAgentsResponse agents = await broker.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline());
            AgentDescription? found = agents.Agents.FirstOrDefault(a => a.Address == agentUrl && a.Health == AgentHealth.Healthy);
            if (found is not null)
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"agent {agentUrl} did not become healthy within {WaitLimit}");
    }
}
