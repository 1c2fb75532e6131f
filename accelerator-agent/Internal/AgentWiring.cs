using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Slices;
using Microsoft.Extensions.Hosting;

namespace AccelBroker.Agent.Internal;

/// <summary>
/// Connects the slice registry to the execution side once, when first resolved: here rather than injected, so the
/// registry needs nothing from the execution side. <see cref="AgentHost.Build"/> resolves it at build; a host
/// made from <see cref="AgentServiceCollectionExtensions.AddAcceleratorAgent"/> alone, when it starts.
/// </summary>
internal sealed class AgentWiring : IHostedService
{
    public AgentWiring(SliceRegistry slices, ComputeScheduler scheduler, SliceWorkers workers, AgentMetrics metrics, ModelResidency residency)
    {
        _ = metrics;
        _ = residency;
        slices.Released += scheduler.Remove;
        // Each slice executes in a worker process of its own, started as soon as the slice is assigned.
        slices.Assigned += workers.Prestart;
        slices.Released += workers.Release;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
