using System.Diagnostics;
using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core.Interceptors;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using Xunit;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// Usage since attach across restarts, with a real broker and a real CPU agent on loopback: the broker's with
/// its data directory, and the agent's (it keeps its id, is given its slice again and counts from zero).
/// </summary>
public sealed class UsageRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int FirstRuns = 6;
    private const int SecondRuns = 4;

    // Heartbeats come every second here; a loaded 2-core machine may stretch that a lot.
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    private readonly string _brokerDirectory = Directory.CreateTempSubdirectory("accel-usage-broker-").FullName;
    private readonly string _agentDirectory = Directory.CreateTempSubdirectory("accel-usage-agent-").FullName;
    private readonly List<WebApplication> _apps = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (WebApplication app in Enumerable.Reverse(_apps).ToList())
        {
            await StopAsync(app);
        }

        Directory.Delete(_brokerDirectory, recursive: true);
        Directory.Delete(_agentDirectory, recursive: true);
    }

    [Fact]
    public async Task ABrokerRestartedWithItsDataDirectoryShowsTheSameUsage()
    {
        WebApplication broker = await StartBrokerAsync();
        string brokerUrl = broker.Urls.First();
        await StartAgentAsync(brokerUrl);
        Accelerator attached = await AttachAsync(brokerUrl);
        await RunAsync(brokerUrl, attached, FirstRuns);
        AcceleratorUsage before = await WaitForUsageAsync(brokerUrl, attached, FirstRuns, failures: 1);
        Assert.Equal(FirstRuns, before.ClientInferences);
        Assert.Equal(1, before.Failures);

        await StopAsync(broker);
        // A new port: the agent keeps calling the old one, so everything shown below comes from the file.
        string restartedUrl = (await StartBrokerAsync()).Urls.First();

        AcceleratorUsage after = await GetUsageAsync(restartedUrl, attached);
        Assert.Equal(FirstRuns, after.Inferences);
        Assert.Equal(1, after.Failures);
        Assert.Equal(FirstRuns, after.ClientInferences);
        Assert.Equal(before.AgentTotal, after.AgentTotal);
        Assert.Equal(before.AgentCompute, after.AgentCompute);
        Assert.Equal(before.ClientEndToEnd, after.ClientEndToEnd);
        Assert.Equal(before.Models, after.Models);
        Assert.Equal(before.CostBasis, after.CostBasis);
        Assert.Equal(before.CostPer100K, after.CostPer100K);
    }

    [Fact]
    public async Task AnAgentRestartedWithItsIdAddsToTheUsageItReportedBefore()
    {
        string brokerUrl = (await StartBrokerAsync()).Urls.First();
        WebApplication agent = await StartAgentAsync(brokerUrl);
        Accelerator attached = await AttachAsync(brokerUrl);
        await RunAsync(brokerUrl, attached, FirstRuns);
        await WaitForUsageAsync(brokerUrl, attached, FirstRuns, failures: 1);

        await StopAsync(agent);
        string restartedUrl = (await StartAgentAsync(brokerUrl)).Urls.First();
        await WaitForAgentAsync(brokerUrl, restartedUrl);

        // The new agent process counts from zero; the broker shows the runs of both.
        await RunAsync(brokerUrl, attached, SecondRuns);
        AcceleratorUsage usage = await WaitForUsageAsync(brokerUrl, attached, FirstRuns + SecondRuns, failures: 2);

        Assert.Equal(restartedUrl, usage.Accelerator.AgentAddress);
        Assert.Equal(2, usage.Failures);
        Assert.Equal(FirstRuns + SecondRuns, usage.AgentTotal.Count);
        Assert.Equal(FirstRuns + SecondRuns, usage.ClientInferences);
        Assert.Equal(FirstRuns + SecondRuns, Assert.Single(usage.Models).Inferences);
    }

    [Fact]
    public async Task AnAgentStoppedCleanlyReportsItsRunsSinceTheLastHeartbeat()
    {
        // Heartbeats a minute apart: none comes between the runs and the stop, only the last one, on the way out.
        string brokerUrl = (await StartBrokerAsync(heartbeat: TimeSpan.FromSeconds(60))).Urls.First();
        WebApplication agent = await StartAgentAsync(brokerUrl);
        Accelerator attached = await AttachAsync(brokerUrl);
        await RunAsync(brokerUrl, attached, FirstRuns);
        Assert.Equal(0, (await GetUsageAsync(brokerUrl, attached)).Inferences);

        await StopAsync(agent);

        AcceleratorUsage usage = await GetUsageAsync(brokerUrl, attached);
        Assert.Equal(FirstRuns, usage.Inferences);
        Assert.Equal(1, usage.Failures);
        Assert.Equal(FirstRuns, usage.AgentTotal.Count);
    }

    private async Task<WebApplication> StartBrokerAsync(TimeSpan? heartbeat = null)
    {
        WebApplication broker = BrokerHost.Build(
            new BrokerOptions { Listen = "http://127.0.0.1:0", DataDir = _brokerDirectory, HeartbeatInterval = heartbeat ?? TimeSpan.FromSeconds(1) },
            logging => Log(logging, "broker"));
        _apps.Add(broker);
        string adminKey = BrokerHost.CreateApiKey(broker, "test-admin");
        await broker.StartAsync();
        TestCredentials.Register(broker.Urls.First(), adminKey);
        return broker;
    }

    // With its own data directory the agent keeps its id across restarts, so the broker gives it back its slices.
    private async Task<WebApplication> StartAgentAsync(string brokerUrl)
    {
        WebApplication agent = AgentHost.Build(
            new AgentOptions
            {
                Listen = "http://127.0.0.1:0",
                BrokerAddress = brokerUrl,
                Device = "cpu",
                DataDirectory = _agentDirectory,
                MemoryBytes = 4L << 30,
            },
            logging => Log(logging, "agent"));
        _apps.Add(agent);
        await agent.StartAsync();
        await WaitForAgentAsync(brokerUrl, agent.Urls.First());
        return agent;
    }

    private void Log(ILoggingBuilder logging, string prefix)
    {
        logging.ClearProviders();
        logging.AddProvider(new TestOutputLoggerProvider(output, prefix));
        logging.SetMinimumLevel(LogLevel.Information);
    }

    private static async Task<Accelerator> AttachAsync(string brokerUrl)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(brokerUrl);
        AttachResponse response = await new BrokerClient(channel.Intercept(TestCredentials.Adding(brokerUrl))).AttachAsync(
            new AttachRequest { Host = "usage-host", SliceType = "eia2.medium", HostType = "c5.large" }, deadline: TestCluster.Deadline());
        return response.Accelerator;
    }

    // Runs the model, plus one run that fails; disposing the session sends the client's last report.
    private static async Task RunAsync(string brokerUrl, Accelerator attached, int runs)
    {
        await using AcceleratorSession session = await AcceleratorSession.OpenAsync(
            new AcceleratorSessionOptions { Broker = brokerUrl, Host = attached.Host, Ordinal = attached.Ordinal, HostCredential = TestCredentials.KeyOf(brokerUrl) });
        RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        Tensor input = Fixtures.Npy("demo_mlp.input0.npy");
        for (int i = 0; i < runs; i++)
        {
            await session.RunAsync(model, [input]);
        }

        await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(model, [Tensor.Zeros(TensorDataType.Float32, 1, 15)]));
    }

    // The agent's figures arrive with a heartbeat; the client's came with the session's last report. A heartbeat may
    // fall between the last good run and the failing one, so both counts are waited for.
    private async Task<AcceleratorUsage> WaitForUsageAsync(string brokerUrl, Accelerator attached, int inferences, int failures)
    {
        var waited = Stopwatch.StartNew();
        AcceleratorUsage usage = await GetUsageAsync(brokerUrl, attached);
        for (int i = 0; i < 300 && (usage.Inferences != inferences || usage.Failures != failures) && waited.Elapsed < WaitLimit; i++)
        {
            await Task.Delay(100);
            usage = await GetUsageAsync(brokerUrl, attached);
        }

        output.WriteLine($"agent inferences {usage.Inferences}, client {usage.ClientInferences} after {waited.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(inferences, usage.Inferences);
        return usage;
    }

    private static async Task WaitForAgentAsync(string brokerUrl, string agentUrl)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(brokerUrl);
        var broker = new BrokerClient(channel.Intercept(TestCredentials.Adding(brokerUrl)));
        var waited = Stopwatch.StartNew();
        for (int i = 0; i < 300 && waited.Elapsed < WaitLimit; i++)
        {
            DescribeAgentsResponse agents = await broker.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline());
            if (agents.Agents.Any(a => a.Address == agentUrl && a.Health == AgentHealth.Healthy))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"the agent at {agentUrl} did not register with the broker within {WaitLimit.TotalSeconds:0} s");
    }

    private static async Task<AcceleratorUsage> GetUsageAsync(string brokerUrl, Accelerator attached)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(brokerUrl);
        GetUsageResponse response = await new BrokerClient(channel.Intercept(TestCredentials.Adding(brokerUrl))).GetUsageAsync(
            new GetUsageRequest { Host = attached.Host, Ordinal = attached.Ordinal }, deadline: TestCluster.Deadline());
        AcceleratorUsage usage = Assert.Single(response.Accelerators);
        Assert.Equal(attached.Id, usage.Accelerator.Id);
        return usage;
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
