using AccelBroker.Agent.Services;

namespace AccelBroker.Agent;

/// <summary>Maps an accelerator agent's endpoints; each needs <see cref="AgentServiceCollectionExtensions.AddAcceleratorAgent"/>.</summary>
public static class AgentEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps both of the agent's gRPC services: <see cref="MapAgentControl"/> and <see cref="MapAgentInference"/>, and
    /// the standard <c>grpc.health.v1.Health</c> service (readiness as <c>""</c>, liveness as <c>liveness</c>), open without a token.
    /// </summary>
    /// <returns>Both services' builders, for conventions such as authorization, together or apart.</returns>
    public static AcceleratorAgentEndpointConventionBuilder MapAcceleratorAgent(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGrpcHealthChecksService();
        GrpcServiceEndpointConventionBuilder inference = endpoints.MapAgentInference();
        GrpcServiceEndpointConventionBuilder control = endpoints.MapAgentControl();
        return new AcceleratorAgentEndpointConventionBuilder(control, inference);
    }

    /// <summary>Maps <c>accelbroker.v1.InferenceAgent</c>, the service clients call (models, runs, usage, the local benchmark).</summary>
    public static GrpcServiceEndpointConventionBuilder MapAgentInference(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGrpcService<InferenceEndpoint>();
    }

    /// <summary>Maps <c>accelbroker.v1.AgentControl</c>, the service the broker calls to assign and release slices.</summary>
    public static GrpcServiceEndpointConventionBuilder MapAgentControl(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGrpcService<AgentControlService>();
    }
}
