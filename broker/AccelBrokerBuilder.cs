namespace AccelBroker.Broker;

internal sealed class AccelBrokerBuilder(IServiceCollection services) : IAccelBrokerBuilder
{
    public IServiceCollection Services { get; } = services;
}
