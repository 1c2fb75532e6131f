namespace AccelBroker.Broker.Health;

/// <summary>
/// Whether the broker's store (attachments, agents, placements) can be used, for readiness. A durable store
/// implements it over its connection; the in-memory store is always open (<see cref="InMemoryStoreProbe"/>).
/// </summary>
internal interface IBrokerStoreProbe
{
    /// <summary>Why the store cannot be used now; <see langword="null"/> when it is open. Must be quick and must not name a secret.</summary>
    ValueTask<string?> FindProblemAsync(CancellationToken cancellationToken);
}
