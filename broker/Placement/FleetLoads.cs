using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Catalog;
using AccelBroker.Broker.Fleet;

namespace AccelBroker.Broker.Placement;

/// <summary>Places a slice type on the fleet as it is now: healthy agents that are not cordoned, with their reservations.</summary>
internal static class FleetLoads
{
    /// <param name="excluded">An agent that must not be chosen (the one a slice moves off); <see langword="null"/> for none.</param>
    public static PlacementResult Place(SliceTypeSpec sliceType, AgentRegistry registry, AttachmentBook book, string? excluded = null)
    {
        IReadOnlyDictionary<string, (long MemoryBytes, double Compute)> allocations = book.AllocationsByAgent();
        return SlicePlacer.Place(sliceType, registry.Snapshot().Select(agent =>
        {
            (long memory, double compute) = allocations.GetValueOrDefault(agent.AgentId);
            bool eligible = registry.IsHealthy(agent) && !agent.Cordoned && agent.AgentId != excluded;
            return new AgentLoad(agent.AgentId, eligible, agent.CapacityMemoryBytes, agent.CapacityCompute, memory, compute);
        }));
    }
}
