using AccelBroker.Broker.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AccelBroker.Broker.Health;

/// <summary>The broker's readiness (the health service's overall status): its store answers.</summary>
internal sealed class BrokerReadinessCheck(IStoreProbe store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            store.Probe();
            return Task.FromResult(HealthCheckResult.Healthy($"the broker's store ({store.Location}) is open"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The message names the store and what failed; the store's messages never carry a secret.
            return Task.FromResult(HealthCheckResult.Unhealthy($"the broker's store ({store.Location}) is not usable: {ex.Message}"));
        }
    }
}
