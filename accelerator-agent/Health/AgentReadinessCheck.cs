using AccelBroker.Agent.Registration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AccelBroker.Agent.Health;

/// <summary>
/// The agent's readiness (the health service's overall status): registered with its broker and a device that
/// passed its last check. Reads cached state only, so a probe never waits on the device or the broker.
/// </summary>
internal sealed class AgentReadinessCheck(RegistrationState registration, DeviceHealthMonitor device) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!registration.IsRegistered)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(registration.Reason));
        }

        return Task.FromResult(device.Failure is { } failure
            ? HealthCheckResult.Unhealthy(failure)
            : HealthCheckResult.Healthy($"{registration.Reason}; device {device.Label} works"));
    }
}
