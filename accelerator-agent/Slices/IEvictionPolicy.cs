namespace AccelBroker.Agent.Slices;

/// <summary>
/// Chooses the order in which a slice unloads its idle models when a load needs room. The slice decides how many go
/// (until the new model fits under its threshold) and never passes a model a run holds.
/// </summary>
internal interface IEvictionPolicy
{
    /// <summary>The idle resident models in the order they should be unloaded, first to go first.</summary>
    IEnumerable<SliceModelEntry> Order(IReadOnlyCollection<SliceModelEntry> idle);
}
