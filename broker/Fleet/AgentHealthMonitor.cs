using AccelBroker.Broker.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Fleet;

/// <summary>
/// Logs an agent once when it misses its heartbeats. Health itself is computed on demand from the last
/// heartbeat, so this service only reports; nothing depends on it running.
/// </summary>
internal sealed class AgentHealthMonitor(AgentRegistry registry, BrokerOptions options, TimeProvider time, ILogger<AgentHealthMonitor> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (AgentRecord agent in registry.TakeNewlyLost())
                {
                    BrokerLog.AgentLost(logger, agent.AgentId, agent.Address, agent.LastSeen, options.UnhealthyAfter);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
