namespace AccelBroker.Agent;

/// <summary>What <see cref="AgentServiceCollectionExtensions.AddAcceleratorAgent"/> returns, for further configuration of the agent's services.</summary>
public interface IAcceleratorAgentBuilder
{
    /// <summary>The services the agent was added to.</summary>
    IServiceCollection Services { get; }
}
