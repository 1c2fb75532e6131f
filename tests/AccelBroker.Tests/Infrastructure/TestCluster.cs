using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Client;
using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>A real broker and a real CPU agent on loopback Kestrel (port 0), as operators run them.</summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly GrpcChannel _brokerChannel;
    private readonly GrpcChannel _agentChannel;

    private TestCluster(WebApplication broker, WebApplication agent, string dataDirectory)
    {
        Broker = broker;
        Agent = agent;
        DataDirectory = dataDirectory;
        BrokerUrl = broker.Urls.First();
        AgentUrl = agent.Urls.First();
        _brokerChannel = AgentChannels.Create(BrokerUrl, TimeSpan.FromSeconds(5));
        _agentChannel = AgentChannels.Create(AgentUrl, TimeSpan.FromSeconds(5));
        BrokerClient = new Protocol.V1.Broker.BrokerClient(_brokerChannel);
        AgentClient = new InferenceAgent.InferenceAgentClient(_agentChannel);
    }

    public WebApplication Broker { get; }

    public WebApplication Agent { get; }

    public string BrokerUrl { get; }

    public string AgentUrl { get; }

    public string DataDirectory { get; }

    public Protocol.V1.Broker.BrokerClient BrokerClient { get; }

    /// <summary>A raw agent client, for requests the session would refuse to build.</summary>
    public InferenceAgent.InferenceAgentClient AgentClient { get; }

    public static async Task<TestCluster> StartAsync(long agentMemoryBytes = 16L * 1024 * 1024 * 1024)
    {
        static void Quiet(ILoggingBuilder logging) => logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        string dataDirectory = Directory.CreateTempSubdirectory("accel-test-").FullName;
        string catalog = Path.Combine(dataDirectory, "catalog.json");
        await File.WriteAllTextAsync(catalog, Catalog);
        WebApplication broker = BrokerHost.Build(new BrokerOptions { Listen = "http://127.0.0.1:0", HeartbeatInterval = TimeSpan.FromMilliseconds(500), CatalogPath = catalog }, Quiet);
        await broker.StartAsync();
        WebApplication agent = AgentHost.Build(
            new AgentOptions { Listen = "http://127.0.0.1:0", BrokerAddress = broker.Urls.First(), DataDirectory = dataDirectory, MemoryBytes = agentMemoryBytes },
            Quiet);
        await agent.StartAsync();
        var cluster = new TestCluster(broker, agent, dataDirectory);
        await cluster.WaitForHealthyAgentAsync();
        return cluster;
    }

    public async Task<Protocol.V1.Accelerator> AttachAsync(string host, string sliceType = "eia2.medium")
    {
        AttachResponse response = await BrokerClient.AttachAsync(new AttachRequest { Host = host, SliceType = sliceType }, deadline: Deadline());
        return response.Accelerator;
    }

    /// <summary>Attaches a fresh slice for a unique host and opens a session on it.</summary>
    public async Task<AcceleratorSession> OpenSessionAsync(AcceleratorSessionOptions? options = null)
    {
        string host = "host-" + Guid.NewGuid().ToString("N")[..8];
        Protocol.V1.Accelerator accelerator = await AttachAsync(host, TinySlice);
        options ??= new AcceleratorSessionOptions();
        return await AcceleratorSession.OpenAsync(options with { Broker = BrokerUrl, Host = host, Ordinal = accelerator.Ordinal });
    }

    /// <summary>EI's types plus a tiny one, so a test class can open many sessions on one agent.</summary>
    public const string TinySlice = "test.tiny";

    private const string Catalog = """
        {"slice_types": [
          {"name": "eia2.medium", "memory_mib": 2048, "compute_share": 0.125, "price_per_hour": 0.12, "fp32_tflops": 1, "fp16_tflops": 8},
          {"name": "eia2.large", "memory_mib": 4096, "compute_share": 0.25, "price_per_hour": 0.24, "fp32_tflops": 2, "fp16_tflops": 16},
          {"name": "eia2.xlarge", "memory_mib": 8192, "compute_share": 0.5, "price_per_hour": 0.34, "fp32_tflops": 4, "fp16_tflops": 32},
          {"name": "test.tiny", "memory_mib": 16, "compute_share": 0.001, "price_per_hour": 0.001, "fp32_tflops": 0, "fp16_tflops": 0}
        ]}
        """;

    public static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);

    private async Task WaitForHealthyAgentAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            DescribeAgentsResponse agents = await BrokerClient.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: Deadline(), cancellationToken: timeout.Token);
            if (agents.Agents.Any(a => a.Status == "healthy"))
            {
                return;
            }

            await Task.Delay(20, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _brokerChannel.Dispose();
        _agentChannel.Dispose();
        await Agent.StopAsync();
        await Broker.StopAsync();
        await Agent.DisposeAsync();
        await Broker.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
