using AccelBroker.Broker.Tokens;
using AccelBroker.Cli.Hosting;
using AccelBroker.Client;
using AccelBroker.Client.Internal;
using AccelBroker.Hosting.Tokens;
using AccelBroker.Tests.Logging;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Tokens;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>
/// A real broker and a real CPU agent on loopback Kestrel (port 0), as <c>accel demo</c> runs them, with a
/// catalogue that adds a tiny slice type so one agent can serve many test sessions.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
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

    private readonly LoopbackFleet _fleet;
    private readonly string _catalogPath;
    private readonly GrpcChannel _agentChannel;

    private TestCluster(LoopbackFleet fleet, string catalogPath)
    {
        _fleet = fleet;
        _catalogPath = catalogPath;
        _agentChannel = AgentChannels.Create(fleet.AgentUrl, TimeSpan.FromSeconds(5));
        AgentClient = new InferenceAgent.InferenceAgentClient(_agentChannel.Intercept(new TestTokenInjector(MintForAgent)));
        RawAgentClient = new InferenceAgent.InferenceAgentClient(_agentChannel);
    }

    /// <summary>The agent's id, the audience of every token for it.</summary>
    public string AgentId => Agent.Services.GetRequiredService<AccelBroker.Agent.Registration.AgentIdentity>().AgentId;

    public WebApplication Agent => _fleet.Agent;

    public string BrokerUrl => _fleet.BrokerUrl;

    public string AgentUrl => _fleet.AgentUrl;

    public string DataDirectory => _fleet.DataDirectory;

    public Protocol.V1.Broker.BrokerClient BrokerClient => _fleet.BrokerClient;

    /// <summary>The admin key the fleet made for itself.</summary>
    public string AdminKey => _fleet.AdminKey;

    /// <summary>The credential the broker issued to <paramref name="host"/> when this cluster attached it.</summary>
    public string? HostCredentialOf(string host) => _fleet.HostCredentialOf(host);

    /// <summary>
    /// A raw agent client, for requests the session would refuse to build; each call carries the token the broker
    /// would have given for it (<see cref="TestTokenInjector"/>), signed by this broker's key.
    /// </summary>
    public InferenceAgent.InferenceAgentClient AgentClient { get; }

    /// <summary>A raw agent client that sends no token unless the call sets one.</summary>
    public InferenceAgent.InferenceAgentClient RawAgentClient { get; }

    /// <summary>Headers carrying a slice token for <paramref name="sliceId"/>, for streaming calls that name their slice only in a message.</summary>
    public Grpc.Core.Metadata SliceHeaders(string sliceId) => new() { { "authorization", "Bearer " + MintForAgent(AccessScope.Slice, sliceId) } };

    /// <summary>Signs a token of <paramref name="scope"/> for this cluster's agent with the broker's current key.</summary>
    public string MintForAgent(AccessScope scope, string? sliceId)
    {
        AccessTokenMinter minter = _fleet.Broker.Services.GetRequiredService<AccessTokenMinter>();
        return scope switch
        {
            // Epoch 1: this cluster has one agent, so its accelerators never move.
            AccessScope.Slice => minter.Slice(AgentId, "test", sliceId!, epoch: 1).Token,
            AccessScope.Operator => minter.Operator(AgentId, "test").Token,
            _ => minter.Control(AgentId).Token,
        };
    }

    public static async Task<TestCluster> StartAsync(long agentMemoryBytes = 16L * 1024 * 1024 * 1024)
    {
        string catalogPath = Path.Combine(Path.GetTempPath(), $"accel-test-catalog-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(catalogPath, Catalog);
        LoopbackFleet fleet = await LoopbackFleet.StartAsync(new LoopbackFleetOptions
        {
            CatalogPath = catalogPath,
            AgentMemoryBytes = agentMemoryBytes,
            // The broker's default (2 s, unhealthy after 3 missed): a shorter beat let a busy 2-core CI machine
            // mark the agent unhealthy between tests, and no integration test waits for health to change.
            HeartbeatInterval = TimeSpan.FromSeconds(2),
            ConfigureLogging = logging => logging.AddSuiteScan(),
        });
        TestCredentials.Register(fleet.BrokerUrl, fleet.AdminKey);
        return new TestCluster(fleet, catalogPath);
    }

    public Task<Protocol.V1.Accelerator> AttachAsync(string host, string sliceType = "eia2.medium") =>
        _fleet.AttachAsync(host, sliceType);

    /// <summary>Attaches a fresh tiny slice for a unique host and opens a session on it.</summary>
    public async Task<AcceleratorSession> OpenSessionAsync(AcceleratorSessionOptions? options = null)
    {
        string host = "host-" + Guid.NewGuid().ToString("N")[..8];
        Protocol.V1.Accelerator accelerator = await AttachAsync(host, TinySlice);
        return await _fleet.OpenSessionAsync(host, accelerator.Ordinal, options);
    }

    /// <summary>Opens a session on a slice attached earlier with <see cref="AttachAsync"/>: many sessions may share one slice.</summary>
    public Task<AcceleratorSession> OpenSessionAsync(string host, int ordinal, AcceleratorSessionOptions? options = null) =>
        _fleet.OpenSessionAsync(host, ordinal, options);

    public static DateTime Deadline() => LoopbackFleet.Deadline();

    /// <summary>The worker-process keeper of a slice this agent holds.</summary>
    internal AccelBroker.Agent.Isolation.SliceWorker SliceWorkerOf(string sliceId) =>
        Agent.Services.GetRequiredService<AccelBroker.Agent.Isolation.SliceWorkers>().TryGet(sliceId, out AccelBroker.Agent.Isolation.SliceWorker? worker)
            ? worker
            : throw new InvalidOperationException($"slice {sliceId} has no worker on this agent");

    public async ValueTask DisposeAsync()
    {
        _agentChannel.Dispose();
        TestCredentials.Forget(BrokerUrl);
        await _fleet.DisposeAsync();
        File.Delete(_catalogPath);
    }
}
