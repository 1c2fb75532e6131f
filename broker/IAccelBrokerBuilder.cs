namespace AccelBroker.Broker;

/// <summary>What <see cref="BrokerServiceCollectionExtensions.AddAccelBroker"/> returns, for further configuration of the broker's services.</summary>
public interface IAccelBrokerBuilder
{
    /// <summary>The services the broker was added to.</summary>
    IServiceCollection Services { get; }
}
