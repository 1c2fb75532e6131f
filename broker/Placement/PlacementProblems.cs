using System.Collections.Concurrent;

namespace AccelBroker.Broker.Placement;

/// <summary>
/// Accelerators whose agent is gone and that found no agent with room, with the reason: shown as impaired until a move
/// succeeds (or they are detached). Held in memory only: after a broker restart the next failover round finds them again.
/// </summary>
internal sealed class PlacementProblems
{
    private readonly ConcurrentDictionary<string, string> _reasons = new(StringComparer.Ordinal);

    public void Set(string acceleratorId, string reason) => _reasons[acceleratorId] = reason;

    public void Clear(string acceleratorId) => _reasons.TryRemove(acceleratorId, out _);

    /// <summary>Why the accelerator cannot be placed; <see langword="null"/> when nothing is wrong.</summary>
    public string? ReasonOf(string acceleratorId) => _reasons.GetValueOrDefault(acceleratorId);
}
