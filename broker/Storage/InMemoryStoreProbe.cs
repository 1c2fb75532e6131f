namespace AccelBroker.Broker.Storage;

/// <summary>Without a data directory the state is in memory, which always answers.</summary>
internal sealed class InMemoryStoreProbe : IStoreProbe
{
    public string Location => "memory";

    public void Probe()
    {
    }
}
