using System.Diagnostics;
using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Fleet;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// A real broker restarted on its data directory (broker.db) and address, with a real CPU agent and an open session:
/// attachments with their epochs, agents with their cordon, API keys, enrolments and signing keys are all still there.
/// </summary>
public sealed class BrokerStateRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    private readonly string _brokerDirectory = Directory.CreateTempSubdirectory("accel-state-broker-").FullName;
    private readonly string _agentDirectory = Directory.CreateTempSubdirectory("accel-state-agent-").FullName;
    private readonly RecordingLoggerProvider _logs = new();
    private readonly List<WebApplication> _apps = [];
    private string? _brokerUrl;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (WebApplication app in Enumerable.Reverse(_apps).ToList())
        {
            await StopAsync(app);
        }

        if (_brokerUrl is not null)
        {
            TestCredentials.Forget(_brokerUrl);
        }

        Directory.Delete(_brokerDirectory, recursive: true);
        Directory.Delete(_agentDirectory, recursive: true);
    }

    [Fact]
    public async Task ARestartedBrokerKeepsEveryKindOfStateAndAnOpenSessionKeepsWorking()
    {
        WebApplication broker = await StartBrokerAsync("http://127.0.0.1:0");
        string url = _brokerUrl = broker.Urls.First();
        WebApplication agent = await StartAgentAsync(url);
        BrokerClient admin = Client(url);

        Accelerator attached = (await admin.AttachAsync(new AttachRequest { Host = "state-host", SliceType = "eia2.medium" }, deadline: TestCluster.Deadline())).Accelerator;
        long epoch = Assert.Single(broker.Services.GetRequiredService<AttachmentBook>().All()).Epoch;
        string kept = (await admin.CreateApiKeyAsync(new CreateApiKeyRequest { Name = "kept", Role = ApiKeyRole.Viewer }, deadline: TestCluster.Deadline())).Secret;
        CreateApiKeyResponse revoked = await admin.CreateApiKeyAsync(new CreateApiKeyRequest { Name = "revoked", Role = ApiKeyRole.Viewer }, deadline: TestCluster.Deadline());
        await admin.RevokeApiKeyAsync(new RevokeApiKeyRequest { Id = revoked.Key.Id }, deadline: TestCluster.Deadline());
        string enrolment = (await admin.CreateEnrollmentAsync(new CreateEnrollmentRequest { Name = "gpu-9", Reusable = true }, deadline: TestCluster.Deadline())).Token;
        EnrollAgentResponse enrolled = await Client(url, enrolment).EnrollAgentAsync(new EnrollAgentRequest(), deadline: TestCluster.Deadline());
        string agentId = Assert.Single((await admin.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline())).Agents).AgentId;
        Assert.True(broker.Services.GetRequiredService<AgentRegistry>().SetCordoned(agentId, cordoned: true, out _));

        // The session resolves once and keeps its agent and slice token; it does not call the broker again.
        await using AcceleratorSession session = await AcceleratorSession.OpenAsync(
            new AcceleratorSessionOptions { Broker = url, Host = attached.Host, Ordinal = attached.Ordinal, HostCredential = TestCredentials.KeyOf(url) });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        await session.RunAsync(model, [input]);

        await StopAsync(broker);
        DateTimeOffset restartedAt = DateTimeOffset.UtcNow;
        // The same address, so the agent's heartbeats reach the new process.
        WebApplication restarted = await StartBrokerAsync(url);
        admin = Client(url);
        Assert.Equal(epoch, Assert.Single(restarted.Services.GetRequiredService<AttachmentBook>().All()).Epoch);

        Accelerator restored = Assert.Single((await admin.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "state-host" }, deadline: TestCluster.Deadline())).Accelerators);
        Assert.Equal((attached.Id, attached.Ordinal, attached.AgentId, attached.AttachedAt), (restored.Id, restored.Ordinal, restored.AgentId, restored.AttachedAt));
        // Read from the registry: describe-agents does not show the cordon yet.
        Assert.True(restarted.Services.GetRequiredService<AgentRegistry>().TryGet(agentId, out AgentRecord? known));
        Assert.True(known.Cordoned);

        Assert.NotEmpty((await Client(url, kept).ListSliceTypesAsync(new ListSliceTypesRequest(), deadline: TestCluster.Deadline())).SliceTypes);
        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client(url, revoked.Secret).ListSliceTypesAsync(new ListSliceTypesRequest(), deadline: TestCluster.Deadline()));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

        ListEnrolledAgentsResponse listed = await admin.ListEnrolledAgentsAsync(new ListEnrolledAgentsRequest(), deadline: TestCluster.Deadline());
        Assert.Contains(listed.Agents, a => a.AgentId == enrolled.AgentId);
        // The reusable token made before the restart still enrols.
        await Client(url, enrolment).EnrollAgentAsync(new EnrollAgentRequest(), deadline: TestCluster.Deadline());

        // Once the agent has heartbeated the new broker it trusts what that broker publishes; the token minted before
        // the restart still verifies, because the broker kept its signing keys.
        await WaitForHeartbeatAsync(admin, agentId, restartedAt);
        ModelOutput outputs = await session.RunAsync(model, [input]);
        Assert.NotNull(outputs);

        string[] secrets = [kept, revoked.Secret, enrolment, enrolled.Credential];
        Assert.DoesNotContain(_logs.Messages, m => secrets.Any(s => m.Message.Contains(s.Split('_', 3)[2], StringComparison.Ordinal)));
        _ = agent;
    }

    private async Task<WebApplication> StartBrokerAsync(string listen)
    {
        WebApplication broker = BrokerHost.Build(
            new BrokerOptions { Listen = listen, DataDir = _brokerDirectory, HeartbeatInterval = TimeSpan.FromSeconds(1) },
            logging => Log(logging, "broker"));
        _apps.Add(broker);
        string adminKey = BrokerHost.CreateApiKey(broker, "test-admin");
        await broker.StartAsync();
        TestCredentials.Register(broker.Urls.First(), adminKey);
        return broker;
    }

    private async Task<WebApplication> StartAgentAsync(string brokerUrl)
    {
        WebApplication agent = AgentHost.Build(
            new AgentOptions { Listen = "http://127.0.0.1:0", BrokerAddress = brokerUrl, Device = "cpu", DataDirectory = _agentDirectory, MemoryBytes = 4L << 30 },
            logging => Log(logging, "agent"));
        _apps.Add(agent);
        await agent.StartAsync();
        var waited = Stopwatch.StartNew();
        for (int i = 0; i < 300 && waited.Elapsed < WaitLimit; i++)
        {
            if ((await Client(brokerUrl).DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline())).Agents.Any(a => a.Health == AgentHealth.Healthy))
            {
                return agent;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"the agent did not register within {WaitLimit.TotalSeconds:0} s");
        return agent;
    }

    private static async Task WaitForHeartbeatAsync(BrokerClient broker, string agentId, DateTimeOffset since)
    {
        var waited = Stopwatch.StartNew();
        for (int i = 0; i < 300 && waited.Elapsed < WaitLimit; i++)
        {
            AgentDescription? described = (await broker.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline())).Agents.SingleOrDefault(a => a.AgentId == agentId);
            // The loaded record's last-seen is the load time; a heartbeat after a short wait moves it past that.
            if (described?.LastHeartbeat is { } seen && seen.ToDateTimeOffset() > since.AddSeconds(1.5))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"agent {agentId} did not heartbeat the restarted broker within {WaitLimit.TotalSeconds:0} s");
    }

    private static BrokerClient Client(string url, string? key = null)
    {
        GrpcChannel channel = GrpcChannel.ForAddress(url);
        return key is null
            ? new BrokerClient(channel.Intercept(TestCredentials.Adding(url)))
            : new BrokerClient(channel.Intercept(headers =>
            {
                headers.Add("authorization", "Bearer " + key);
                return headers;
            }));
    }

    private void Log(ILoggingBuilder logging, string prefix)
    {
        logging.ClearProviders();
        logging.AddProvider(new TestOutputLoggerProvider(output, prefix));
        logging.AddProvider(_logs);
        logging.SetMinimumLevel(LogLevel.Information);
    }

    private async Task StopAsync(WebApplication app)
    {
        if (_apps.Remove(app))
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }
}
