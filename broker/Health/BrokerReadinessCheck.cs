using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AccelBroker.Broker.Health;

/// <summary>The broker's readiness (the health service's overall status): its store is open.</summary>
internal sealed class BrokerReadinessCheck(IBrokerStoreProbe store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await store.FindProblemAsync(cancellationToken) is { } problem
            ? HealthCheckResult.Unhealthy($"the broker's store is not usable: {problem}")
            : HealthCheckResult.Healthy("the broker's store is open");
}
