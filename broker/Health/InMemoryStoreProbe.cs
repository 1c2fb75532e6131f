namespace AccelBroker.Broker.Health;

/// <summary>The in-memory and JSON-file stores: open for as long as the process runs.</summary>
internal sealed class InMemoryStoreProbe : IBrokerStoreProbe
{
    public ValueTask<string?> FindProblemAsync(CancellationToken cancellationToken) => ValueTask.FromResult<string?>(null);
}
