namespace AccelBroker.Agent.Slices;

/// <summary>
/// Unloads the model whose last run (or load) is oldest first, as SageMaker multi-model endpoints do (seed 003);
/// ties go by model id, so the order is the same on every run.
/// </summary>
internal sealed class LeastRecentlyUsedEviction : IEvictionPolicy
{
    public static LeastRecentlyUsedEviction Instance { get; } = new();

    public IEnumerable<SliceModelEntry> Order(IReadOnlyCollection<SliceModelEntry> idle) =>
        idle.OrderBy(e => e.LastUsedTicks).ThenBy(e => e.ModelId, StringComparer.Ordinal);
}
