using System.Globalization;
using AccelBroker.Broker.Catalog;
using AccelBroker.Broker.Internal;

namespace AccelBroker.Broker.Placement;

/// <summary>
/// Chooses the agent for a new slice. Only healthy agents with enough free memory and compute qualify;
/// nothing is ever oversubscribed. Among them the one left with the most free compute wins, then the most
/// free memory, then the lowest agent id, so the same fleet always gives the same answer.
/// </summary>
internal static class SlicePlacer
{
    /// <summary>
    /// Tolerance on compute: shares are binary fractions added up, and eight 0.125 slices (or ten 0.1 ones)
    /// must fill an agent of 1.0 exactly.
    /// </summary>
    public const double ComputeEpsilon = 1e-9;

    public static PlacementResult Place(SliceTypeSpec slice, IEnumerable<AgentLoad> agents)
    {
        AgentLoad[] healthy = [.. agents.Where(a => a.Healthy)];
        AgentLoad? chosen = healthy
            .Where(a => Fits(slice, a))
            .OrderByDescending(ComparableFreeCompute)
            .ThenByDescending(a => a.FreeMemoryBytes)
            .ThenBy(a => a.AgentId, StringComparer.Ordinal)
            .Cast<AgentLoad?>()
            .FirstOrDefault();
        if (chosen is { } agent)
        {
            return PlacementResult.On(agent.AgentId);
        }

        string needed = $"no healthy agent has room for a {slice.Name} slice (needs {Units.Mib(slice.MemoryBytes)} memory and {Units.Share(slice.ComputeShare)} compute)";
        if (healthy.Length == 0)
        {
            return PlacementResult.Refused($"{needed}; no healthy agents");
        }

        AgentLoad best = healthy
            .OrderByDescending(ComparableFreeCompute)
            .ThenByDescending(a => a.FreeMemoryBytes)
            .ThenBy(a => a.AgentId, StringComparer.Ordinal)
            .First();
        string agentCount = string.Create(CultureInfo.InvariantCulture, $"{healthy.Length} healthy agent{(healthy.Length == 1 ? "" : "s")}");
        return PlacementResult.Refused(
            $"{needed}; best free capacity: {Units.Mib(Math.Max(0, best.FreeMemoryBytes))} memory and {Units.Share(Math.Max(0, best.FreeCompute))} compute on {best.AgentId} ({agentCount})");
    }

    public static bool Fits(SliceTypeSpec slice, AgentLoad agent) =>
        agent.FreeMemoryBytes >= slice.MemoryBytes && agent.FreeCompute + ComputeEpsilon >= slice.ComputeShare;

    // Free compute rounded so that sums differing only in the last bits tie and the next criterion decides.
    private static double ComparableFreeCompute(AgentLoad agent) => Math.Round(agent.FreeCompute, 9);
}
