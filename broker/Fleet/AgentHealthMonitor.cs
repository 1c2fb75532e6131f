using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Placement;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Fleet;

/// <summary>
/// Every heartbeat interval: logs an agent once when it misses its heartbeats (health itself is computed on demand from
/// the last heartbeat), then runs a failover round (<see cref="SliceRelocator.FailOverAsync"/>).
/// </summary>
internal sealed class AgentHealthMonitor(AgentRegistry registry, SliceRelocator relocator, BrokerOptions options, TimeProvider time, ILogger<AgentHealthMonitor> logger)
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

                try
                {
                    await relocator.FailOverAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A failed round must not end the monitor: the next tick tries again.
                    BrokerLog.FailoverRoundFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
