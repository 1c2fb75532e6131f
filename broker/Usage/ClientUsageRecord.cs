namespace AccelBroker.Broker.Usage;

/// <summary>One client's latest cumulative report, as saved.</summary>
internal sealed record ClientUsageRecord(string ClientId, IReadOnlyList<ModelUsageRecord> Models);
