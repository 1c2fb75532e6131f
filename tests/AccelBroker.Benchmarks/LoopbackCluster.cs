using AccelBroker.Cli.Hosting;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Benchmarks;

/// <summary>
/// The loopback fleet of <c>accel demo</c> (broker and CPU agent in this process, port 0) with one attached
/// accelerator and a session on it. The agent keeps models in a fresh temporary folder, so the first upload
/// of a model in a run really sends the bytes.
/// </summary>
internal sealed class LoopbackCluster : IAsyncDisposable
{
    private const string ClientHost = "bench-host";
    private const string SliceType = "eia2.medium";

    private readonly LoopbackFleet _fleet;
    private readonly int _ordinal;

    private LoopbackCluster(LoopbackFleet fleet, AcceleratorSession session, int ordinal)
    {
        _fleet = fleet;
        Session = session;
        _ordinal = ordinal;
    }

    public AcceleratorSession Session { get; }

    /// <summary>The agent's model store: empty when the run starts.</summary>
    public string DataDirectory => _fleet.DataDirectory;

    public string AgentAddress => Session.Accelerator.AgentAddress;

    /// <summary>The agent's token check, which the auth benchmark turns off and on between blocks.</summary>
    internal AccelBroker.Agent.Security.AgentAuthorization AgentAuthorization =>
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<AccelBroker.Agent.Security.AgentAuthorization>(_fleet.Agent.Services);

    /// <summary>Starts everything; <paramref name="intraOpThreads"/> sets libtorch's process-wide pool, shared with in-process baselines.</summary>
    public static async Task<LoopbackCluster> StartAsync(int intraOpThreads, CancellationToken cancellationToken)
    {
        LoopbackFleet fleet = await LoopbackFleet.StartAsync(new LoopbackFleetOptions { IntraOpThreads = intraOpThreads }, cancellationToken);
        try
        {
            Accelerator accelerator = await fleet.AttachAsync(ClientHost, SliceType, cancellationToken);
            AcceleratorSession session = await fleet.OpenSessionAsync(ClientHost, accelerator.Ordinal, cancellationToken: cancellationToken);
            return new LoopbackCluster(fleet, session, accelerator.Ordinal);
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Session.Dispose();
        try
        {
            await _fleet.BrokerClient.DetachAsync(new DetachRequest { Host = ClientHost, Ordinal = _ordinal }, deadline: LoopbackFleet.Deadline());
        }
        catch (Grpc.Core.RpcException)
        {
            // Shutting down anyway.
        }

        await _fleet.DisposeAsync();
    }
}
