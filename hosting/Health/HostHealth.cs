using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Hosting.Health;

/// <summary>
/// The standard gRPC health service (<c>grpc.health.v1.Health</c>, Check and Watch) as both hosts serve it: the
/// overall service (<c>""</c>) answers readiness from the checks tagged <see cref="ReadyTag"/>, and
/// <see cref="LivenessService"/> answers SERVING while the process runs. Kubernetes probes them with
/// <c>grpc: {port: N}</c> and <c>grpc: {port: N, service: liveness}</c>.
/// </summary>
public static class HostHealth
{
    /// <summary>The health service name that is SERVING while the process runs (for a liveness probe).</summary>
    public const string LivenessService = "liveness";

    /// <summary>The tag of the health checks that make up readiness, the overall service <c>""</c>.</summary>
    public const string ReadyTag = "ready";

    private const string LiveTag = "live";

    /// <summary>How often Watch streams see the checks run again; Check runs them when it is called.</summary>
    public static readonly TimeSpan PublishPeriod = TimeSpan.FromSeconds(2);

    /// <summary>Adds the gRPC health service with readiness and liveness; add readiness checks to the builder with <see cref="ReadyTag"/>.</summary>
    /// <returns>The health checks builder.</returns>
    public static IHealthChecksBuilder AddHostHealth(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        IHealthChecksBuilder checks = services.AddGrpcHealthChecks(options =>
        {
            // The package maps "" to every check; readiness and liveness are explicit instead.
            options.Services.Clear();
            options.Services.Map("", context => context.Tags.Contains(ReadyTag));
            options.Services.Map(LivenessService, context => context.Tags.Contains(LiveTag));
        });

        // Watch streams are fed by the health check publisher, whose first run is otherwise 5 s after start and then every 30 s.
        services.Configure<HealthCheckPublisherOptions>(options =>
        {
            options.Delay = TimeSpan.Zero;
            options.Period = PublishPeriod;
        });
        // The health check service logs every unhealthy result at Error, every publish period; the hosts log each
        // change of their own state once instead.
        services.AddLogging(logging => logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical));
        return checks.AddCheck("process", () => HealthCheckResult.Healthy("the process runs"), tags: [LiveTag]);
    }
}
