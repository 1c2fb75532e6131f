namespace AccelBroker.Agent;

/// <summary>
/// The agent's two gRPC services as mapped: conventions added here apply to both; add them to
/// <see cref="Control"/> or <see cref="Inference"/> to treat the broker's calls and the clients' calls apart.
/// </summary>
public sealed class AcceleratorAgentEndpointConventionBuilder : IEndpointConventionBuilder
{
    internal AcceleratorAgentEndpointConventionBuilder(GrpcServiceEndpointConventionBuilder control, GrpcServiceEndpointConventionBuilder inference)
    {
        Control = control;
        Inference = inference;
    }

    /// <summary>The control service (<c>accelbroker.v1.AgentControl</c>): the broker assigning and releasing slices.</summary>
    public GrpcServiceEndpointConventionBuilder Control { get; }

    /// <summary>The inference service (<c>accelbroker.v1.InferenceAgent</c>): clients loading models and running them.</summary>
    public GrpcServiceEndpointConventionBuilder Inference { get; }

    /// <inheritdoc />
    public void Add(Action<EndpointBuilder> convention)
    {
        Control.Add(convention);
        Inference.Add(convention);
    }

    /// <inheritdoc />
    public void Finally(Action<EndpointBuilder> finallyConvention)
    {
        Control.Finally(finallyConvention);
        Inference.Finally(finallyConvention);
    }
}
