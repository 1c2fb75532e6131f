using System.Collections.Concurrent;
using System.Diagnostics;
using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Cli.Hosting;

/// <summary>
/// A real broker and a real CPU agent in this process on loopback Kestrel (port 0), the agent registered
/// and healthy: the embedded default behind <c>accel demo</c>, the integration tests and the benchmark.
/// The agent keeps models in a fresh temporary folder, removed on dispose.
/// </summary>
internal sealed class LoopbackFleet : IAsyncDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private readonly GrpcChannel _brokerChannel;
    private readonly ConcurrentDictionary<string, string> _hostCredentials = new(StringComparer.Ordinal);

    private LoopbackFleet(WebApplication broker, WebApplication agent, string dataDirectory, string adminKey)
    {
        AdminKey = adminKey;
        Broker = broker;
        Agent = agent;
        DataDirectory = dataDirectory;
        BrokerUrl = broker.Urls.First();
        AgentUrl = agent.Urls.First();
        BrokerMetricsUrl = broker.Services.GetService<AccelBroker.Hosting.Metrics.MetricsEndpoint>()?.ScrapeUrl();
        AgentMetricsUrl = agent.Services.GetService<AccelBroker.Hosting.Metrics.MetricsEndpoint>()?.ScrapeUrl();
        _brokerChannel = GrpcChannel.ForAddress(BrokerUrl, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) } });
        string authorization = "Bearer " + adminKey;
        BrokerClient = new Protocol.V1.Broker.BrokerClient(_brokerChannel.Intercept(headers =>
        {
            headers.Add("authorization", authorization);
            return headers;
        }));
    }

    /// <summary>The admin API key the fleet made for itself: loopback fleets provision their own credentials.</summary>
    public string AdminKey { get; }

    public WebApplication Broker { get; }

    public WebApplication Agent { get; }

    public string BrokerUrl { get; }

    public string AgentUrl { get; }

    /// <summary>The broker's Prometheus scrape URL (http://127.0.0.1:port/metrics); null unless metrics are enabled.</summary>
    public string? BrokerMetricsUrl { get; }

    /// <summary>The agent's Prometheus scrape URL; null unless metrics are enabled.</summary>
    public string? AgentMetricsUrl { get; }

    /// <summary>The agent's model store.</summary>
    public string DataDirectory { get; }

    public Protocol.V1.Broker.BrokerClient BrokerClient { get; }

    public static DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    public static async Task<LoopbackFleet> StartAsync(LoopbackFleetOptions options, CancellationToken cancellationToken = default)
    {
        // Warnings only, and on stderr: stdout belongs to the verb's output (accel demo --json must stay JSON).
        void Quiet(ILoggingBuilder logging)
        {
            logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning)
                .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
            options.ConfigureLogging?.Invoke(logging);
        }

        string dataDirectory = Directory.CreateTempSubdirectory("accel-fleet-").FullName;
        string? metricsListen = options.EnableMetrics ? "http://127.0.0.1:0" : null;
        WebApplication? broker = null;
        WebApplication? agent = null;
        try
        {
            broker = BrokerHost.Build(
                new BrokerOptions { Listen = "http://127.0.0.1:0", RequireAgentEnrollment = true, HeartbeatInterval = options.HeartbeatInterval, CatalogPath = options.CatalogPath, MetricsListen = metricsListen },
                Quiet);
            // Before start-up, so the broker never runs without an admin key (and never warns about it).
            string adminKey = BrokerHost.CreateApiKey(broker, "loopback-admin");
            await broker.StartAsync(cancellationToken);

            // The agent enrols like a real one: a single-use token in a file only this user can read.
            string tokenFile = Path.Combine(dataDirectory, "enrollment-token");
            await WriteOwnerOnlyAsync(tokenFile, BrokerEnrollmentTokens.Create(broker.Services, "loopback-agent"), cancellationToken);
            agent = AgentHost.Build(
                new AgentOptions
                {
                    Listen = "http://127.0.0.1:0",
                    BrokerAddress = broker.Urls.First(),
                    Device = "cpu",
                    DataDirectory = dataDirectory,
                    EnrollmentTokenFile = tokenFile,
                    CredentialFile = Path.Combine(dataDirectory, "agent-credential"),
                    MemoryBytes = options.AgentMemoryBytes,
                    IntraOpThreads = options.IntraOpThreads,
                    ExecutionSlots = options.ExecutionSlots ?? new AgentOptions().ExecutionSlots,
                    MaxQueuePerSlice = options.MaxQueuePerSlice ?? AgentOptions.DefaultMaxQueuePerSlice,
                    MetricsListen = metricsListen,
                },
                Quiet);
            await agent.StartAsync(cancellationToken);
            var fleet = new LoopbackFleet(broker, agent, dataDirectory, adminKey);
            await fleet.WaitForHealthyAgentAsync(options.RegistrationTimeout, cancellationToken);
            return fleet;
        }
        catch
        {
            await StopAsync(agent);
            await StopAsync(broker);
            TryDelete(dataDirectory);
            throw;
        }
    }

    public async Task<Protocol.V1.Accelerator> AttachAsync(string host, string sliceType, CancellationToken cancellationToken = default)
    {
        AttachResponse response = await BrokerClient.AttachAsync(new AttachRequest { Host = host, SliceType = sliceType }, deadline: Deadline(), cancellationToken: cancellationToken);
        if (response.HostCredential.Length > 0)
        {
            _hostCredentials[host] = response.HostCredential;
        }

        return response.Accelerator;
    }

    /// <summary>The credential the broker issued to <paramref name="host"/> at its first attach through this fleet; <see langword="null"/> when none was.</summary>
    public string? HostCredentialOf(string host) => _hostCredentials.GetValueOrDefault(host);

    /// <summary>Opens a session as the host's application would: with the host's credential (the admin key for a host attached elsewhere).</summary>
    public Task<AcceleratorSession> OpenSessionAsync(string host, int ordinal, AcceleratorSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new AcceleratorSessionOptions();
        return AcceleratorSession.OpenAsync(
            options with { Broker = BrokerUrl, Host = host, Ordinal = ordinal, HostCredential = options.HostCredential ?? HostCredentialOf(host) ?? AdminKey },
            cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _brokerChannel.Dispose();
        await StopAsync(Agent);
        await StopAsync(Broker);
        TryDelete(DataDirectory);
    }

    private async Task WaitForHealthyAgentAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout)
        {
            DescribeAgentsResponse agents = await BrokerClient.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: Deadline(), cancellationToken: cancellationToken);
            if (agents.Agents.Any(a => a.Health == AgentHealth.Healthy))
            {
                return;
            }

            await Task.Delay(20, cancellationToken);
        }

        throw new TimeoutException($"the in-process agent did not register with the broker within {timeout.TotalSeconds:0} s");
    }

    private static async Task WriteOwnerOnlyAsync(string path, string content, CancellationToken cancellationToken)
    {
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var writer = new StreamWriter(path, System.Text.Encoding.UTF8, create);
        await writer.WriteAsync(content.AsMemory(), cancellationToken);
    }

    private static async Task StopAsync(WebApplication? app)
    {
        if (app is not null)
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
