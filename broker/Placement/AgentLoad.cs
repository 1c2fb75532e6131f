namespace AccelBroker.Broker.Placement;

/// <summary>An agent as placement sees it: health, capacity and what its slices already reserve.</summary>
internal readonly record struct AgentLoad(
    string AgentId,
    bool Healthy,
    long CapacityMemoryBytes,
    double CapacityCompute,
    long AllocatedMemoryBytes,
    double AllocatedCompute)
{
    public long FreeMemoryBytes => CapacityMemoryBytes - AllocatedMemoryBytes;

    public double FreeCompute => CapacityCompute - AllocatedCompute;
}
