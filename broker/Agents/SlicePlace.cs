namespace AccelBroker.Broker.Agents;

/// <summary>One placement of a slice: the agent holding it (id and address), the host it serves, and the epoch.</summary>
internal sealed record SlicePlace(string AgentId, string AgentAddress, string Host, string SliceId, long Epoch);
