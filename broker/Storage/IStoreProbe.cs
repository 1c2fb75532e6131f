namespace AccelBroker.Broker.Storage;

/// <summary>
/// A cheap check that the broker's store still answers, for a readiness health check. A server database (issue 15)
/// implements it with its own round trip.
/// </summary>
internal interface IStoreProbe
{
    /// <summary>Where the state is kept, for messages: a file path, or "memory".</summary>
    string Location { get; }

    /// <summary>Returns when the store answers; throws when it does not. The message names the store, never a secret.</summary>
    void Probe();
}
