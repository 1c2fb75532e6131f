namespace AccelBroker.Agent;

internal sealed class AcceleratorAgentBuilder(IServiceCollection services) : IAcceleratorAgentBuilder
{
    public IServiceCollection Services { get; } = services;
}
