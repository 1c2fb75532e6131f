namespace AccelBroker.Broker.Placement;

/// <summary>The agent chosen for a slice, or why none could take it.</summary>
internal sealed record PlacementResult(string? AgentId, string? Failure)
{
    public bool Placed => AgentId is not null;

    public static PlacementResult On(string agentId) => new(agentId, null);

    public static PlacementResult Refused(string failure) => new(null, failure);
}
