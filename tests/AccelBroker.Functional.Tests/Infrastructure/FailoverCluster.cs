using System.Diagnostics;
using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>
/// A real broker that requires enrolment and two real CPU agents on loopback, each with a model store of its own, so
/// that an accelerator can be moved from one to the other (revoking its agent moves its slices) and the new agent
/// lacks the models the old one held.
/// </summary>
internal sealed class FailoverCluster : IAsyncDisposable
{
    private const string Catalog = """
        {"slice_types": [
          {"name": "test.tiny", "memory_mib": 16, "compute_share": 0.001, "price_per_hour": 0.001, "fp32_tflops": 0, "fp16_tflops": 0}
        ]}
        """;

    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    private readonly string _directory;
    private readonly WebApplication _broker;
    private readonly Dictionary<string, WebApplication> _agents;
    private readonly GrpcChannel _brokerChannel;

    private FailoverCluster(string directory, WebApplication broker, Dictionary<string, WebApplication> agents, string adminKey)
    {
        _directory = directory;
        _broker = broker;
        _agents = agents;
        AdminKey = adminKey;
        BrokerUrl = broker.Urls.First();
        _brokerChannel = GrpcChannel.ForAddress(BrokerUrl);
        Broker = new BrokerClient(_brokerChannel.Intercept(headers =>
        {
            headers.Add("authorization", "Bearer " + adminKey);
            return headers;
        }));
    }

    public string BrokerUrl { get; }

    public string AdminKey { get; }

    public BrokerClient Broker { get; }

    public static async Task<FailoverCluster> StartAsync(ITestOutputHelper output)
    {
        string directory = Directory.CreateTempSubdirectory("accel-failover-").FullName;
        string catalog = Path.Combine(directory, "catalog.json");
        await File.WriteAllTextAsync(catalog, Catalog);
        void Log(ILoggingBuilder logging, string prefix)
        {
            logging.ClearProviders();
            logging.AddProvider(new TestOutputLoggerProvider(output, prefix));
            logging.SetMinimumLevel(LogLevel.Information);
        }

        // The broker's default beat (2 s, unhealthy after 3 missed): a shorter one lets a busy CI machine mark an agent unhealthy.
        WebApplication broker = BrokerHost.Build(
            new BrokerOptions { Listen = "http://127.0.0.1:0", RequireAgentEnrollment = true, HeartbeatInterval = TimeSpan.FromSeconds(2), CatalogPath = catalog },
            logging => Log(logging, "broker"));
        string adminKey = BrokerHost.CreateApiKey(broker, "failover-admin");
        await broker.StartAsync();
        var agents = new Dictionary<string, WebApplication>(StringComparer.Ordinal);
        var cluster = new FailoverCluster(directory, broker, agents, adminKey);
        try
        {
            for (int i = 0; i < 2; i++)
            {
                string name = $"agent-{i}";
                string home = Directory.CreateDirectory(Path.Combine(directory, name)).FullName;
                string tokenFile = Path.Combine(home, "token");
                await File.WriteAllTextAsync(tokenFile, BrokerEnrollmentTokens.Create(broker.Services, name));
                WebApplication agent = AgentHost.Build(
                    new AgentOptions
                    {
                        Listen = "http://127.0.0.1:0",
                        BrokerAddress = cluster.BrokerUrl,
                        Device = "cpu",
                        DataDirectory = Path.Combine(home, "models"),
                        MemoryBytes = 1L << 30,
                        MetricsListen = null,
                        EnrollmentTokenFile = tokenFile,
                        CredentialFile = Path.Combine(home, "credential"),
                    },
                    logging => Log(logging, name));
                await agent.StartAsync();
                agents[agent.Urls.First()] = agent;
            }

            await cluster.WaitForHealthyAgentsAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async Task<Accelerator> AttachAsync(string host)
    {
        AttachResponse response = await Broker.AttachAsync(new AttachRequest { Host = host, SliceType = "test.tiny" }, deadline: TestCluster.Deadline());
        return response.Accelerator;
    }

    public Task<AcceleratorSession> OpenSessionAsync(string host, int ordinal, AcceleratorSessionOptions options) =>
        AcceleratorSession.OpenAsync(options with { Broker = BrokerUrl, Host = host, Ordinal = ordinal, HostCredential = AdminKey, UsageReportInterval = TimeSpan.Zero });

    /// <summary>Stops the agent at <paramref name="address"/>: from then on its port refuses connections.</summary>
    public async Task StopAgentAsync(string address)
    {
        if (_agents.Remove(address, out WebApplication? agent))
        {
            await agent.StopAsync();
            await agent.DisposeAsync();
        }
    }

    /// <summary>Revokes an agent, which moves its slices to the other agent (AttachmentCoordinator.MoveOffAsync).</summary>
    public async Task<RevokeAgentResponse> RevokeAsync(string agentId) =>
        await Broker.RevokeAgentAsync(new RevokeAgentRequest { AgentId = agentId }, deadline: TestCluster.Deadline());

    /// <summary>The models the accelerator's current agent holds for it, asked with the slice token the broker gives now.</summary>
    public async Task<(Accelerator Accelerator, ListModelsResponse Models)> ListModelsAsync(string host, int ordinal)
    {
        ResolveAcceleratorResponse resolved = await Broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = host, Ordinal = ordinal }, deadline: TestCluster.Deadline());
        using GrpcChannel channel = GrpcChannel.ForAddress(resolved.Accelerator.AgentAddress);
        var agent = new InferenceAgent.InferenceAgentClient(channel);
        ListModelsResponse models = await agent.ListModelsAsync(
            new ListModelsRequest { SliceId = resolved.Accelerator.Id },
            new Metadata { { "authorization", "Bearer " + resolved.SliceToken } },
            deadline: TestCluster.Deadline());
        return (resolved.Accelerator, models);
    }

    public async ValueTask DisposeAsync()
    {
        _brokerChannel.Dispose();
        foreach (string address in _agents.Keys.ToList())
        {
            await StopAgentAsync(address);
        }

        await _broker.StopAsync();
        await _broker.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task WaitForHealthyAgentsAsync()
    {
        var waited = Stopwatch.StartNew();
        for (int i = 0; i < 600 && waited.Elapsed < WaitLimit; i++)
        {
            DescribeAgentsResponse described = await Broker.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: TestCluster.Deadline());
            if (_agents.Keys.All(address => described.Agents.Any(a => a.Address == address && a.Health == AgentHealth.Healthy)))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"the two agents did not both register healthy within {WaitLimit}");
    }
}
