namespace AccelBroker.Broker.Usage;

/// <summary>The agent's latest cumulative report of a slice, as saved; its memory figures are not (they are a reading of now).</summary>
internal sealed record AgentUsageRecord(string Incarnation, IReadOnlyList<ModelUsageRecord> Models);
