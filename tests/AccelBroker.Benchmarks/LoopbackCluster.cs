using System.Diagnostics;
using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Client;
using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Benchmarks;

/// <summary>
/// A broker and a CPU agent in this process on loopback (port 0), one attached accelerator and a session
/// on it, as <c>accel demo</c> sets them up. The agent keeps models in a fresh temporary folder, so the
/// first upload of a model in a run really sends the bytes.
/// </summary>
internal sealed class LoopbackCluster : IAsyncDisposable
{
    private const string ClientHost = "bench-host";
    private const string SliceType = "eia2.medium";
    private static readonly TimeSpan RegistrationTimeout = TimeSpan.FromSeconds(30);

    private readonly WebApplication _broker;
    private readonly WebApplication _agent;
    private readonly GrpcChannel _brokerChannel;
    private readonly int _ordinal;

    private LoopbackCluster(WebApplication broker, WebApplication agent, GrpcChannel brokerChannel, AcceleratorSession session, int ordinal, string dataDirectory)
    {
        _broker = broker;
        _agent = agent;
        _brokerChannel = brokerChannel;
        Session = session;
        _ordinal = ordinal;
        DataDirectory = dataDirectory;
    }

    public AcceleratorSession Session { get; }

    /// <summary>The agent's model store: empty when the run starts.</summary>
    public string DataDirectory { get; }

    public string AgentAddress => Session.Accelerator.AgentAddress;

    /// <summary>Starts everything; <paramref name="intraOpThreads"/> sets libtorch's process-wide pool, shared with in-process baselines.</summary>
    public static async Task<LoopbackCluster> StartAsync(int intraOpThreads, CancellationToken cancellationToken)
    {
        string dataDirectory = Path.Combine(Path.GetTempPath(), $"accel-bench-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDirectory);
        static void Quiet(ILoggingBuilder logging) =>
            logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);

        WebApplication broker = BrokerHost.Build(new BrokerOptions { Listen = "http://127.0.0.1:0", HeartbeatInterval = TimeSpan.FromSeconds(1) }, Quiet);
        WebApplication? agent = null;
        GrpcChannel? channel = null;
        try
        {
            await broker.StartAsync(cancellationToken);
            string brokerUrl = broker.Urls.First();
            agent = AgentHost.Build(
                new AgentOptions
                {
                    Listen = "http://127.0.0.1:0",
                    BrokerAddress = brokerUrl,
                    Device = "cpu",
                    DataDirectory = dataDirectory,
                    IntraOpThreads = intraOpThreads,
                    ExecutionSlots = 1,
                },
                Quiet);
            await agent.StartAsync(cancellationToken);

            channel = AgentChannels.Create(brokerUrl, TimeSpan.FromSeconds(5));
            var client = new Protocol.V1.Broker.BrokerClient(channel);
            await WaitForHealthyAgentAsync(client, cancellationToken);
            AttachResponse attached = await client.AttachAsync(new AttachRequest { Host = ClientHost, SliceType = SliceType }, deadline: Deadline(), cancellationToken: cancellationToken);
            int ordinal = attached.Accelerator.Ordinal;
            AcceleratorSession session = await AcceleratorSession.OpenAsync(new AcceleratorSessionOptions { Broker = brokerUrl, Host = ClientHost, Ordinal = ordinal }, cancellationToken);
            return new LoopbackCluster(broker, agent, channel, session, ordinal, dataDirectory);
        }
        catch
        {
            channel?.Dispose();
            if (agent is not null)
            {
                await StopAsync(agent);
            }

            await StopAsync(broker);
            TryDelete(dataDirectory);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Session.Dispose();
        try
        {
            var client = new Protocol.V1.Broker.BrokerClient(_brokerChannel);
            await client.DetachAsync(new DetachRequest { Host = ClientHost, Ordinal = _ordinal }, deadline: Deadline());
        }
        catch (Grpc.Core.RpcException)
        {
            // Shutting down anyway.
        }

        _brokerChannel.Dispose();
        await StopAsync(_agent);
        await StopAsync(_broker);
        TryDelete(DataDirectory);
    }

    private static async Task WaitForHealthyAgentAsync(Protocol.V1.Broker.BrokerClient client, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < RegistrationTimeout)
        {
            DescribeAgentsResponse agents = await client.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: Deadline(), cancellationToken: cancellationToken);
            if (agents.Agents.Any(a => a.Status == "healthy"))
            {
                return;
            }

            await Task.Delay(50, cancellationToken);
        }

        throw new TimeoutException($"the in-process agent did not register with the broker within {RegistrationTimeout.TotalSeconds:0} s");
    }

    private static async Task StopAsync(WebApplication app)
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(15);

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
