using System.Collections.Concurrent;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Metering;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Slices;

/// <summary>A share of this agent's device placed here by the broker, and the models it serves.</summary>
internal sealed class AcceleratorSlice
{
    private long _loads;
    private long _evictions;

    public AcceleratorSlice(SliceAssignment assignment, double evictionThreshold)
    {
        Assignment = assignment;
        Usage = new SliceUsageMeter(assignment.SliceId);
        ThresholdBytes = (long)(assignment.MemoryBytes * evictionThreshold);
    }

    public SliceAssignment Assignment { get; }

    public string Id => Assignment.SliceId;

    /// <summary>What ran here since the slice was assigned.</summary>
    public SliceUsageMeter Usage { get; }

    /// <summary>The memory budget: resident models never hold more.</summary>
    public long BudgetBytes => Assignment.MemoryBytes;

    /// <summary>A load that would take the charge past this evicts least recently used idle models first.</summary>
    public long ThresholdBytes { get; }

    /// <summary>Resident models by id: what runs find.</summary>
    public ConcurrentDictionary<string, LoadedModel> Models { get; } = new(StringComparer.Ordinal);

    /// <summary>Every model the slice serves by id, resident or evicted.</summary>
    public ConcurrentDictionary<string, SliceModelEntry> Catalog { get; } = new(StringComparer.Ordinal);

    /// <summary>Bytes charged to resident models.</summary>
    public long ChargedBytes => Catalog.Values.Where(e => e.Resident is not null).Sum(e => e.ChargedBytes);

    public long Loads => Volatile.Read(ref _loads);

    public long Evictions => Volatile.Read(ref _evictions);

    public void CountLoad() => Interlocked.Increment(ref _loads);

    public void CountEviction() => Interlocked.Increment(ref _evictions);

    /// <summary>Cumulative usage and the memory picture, for the heartbeat.</summary>
    public SliceUsage UsageToProto()
    {
        SliceUsage usage = Usage.ToProto();
        usage.MemoryChargedBytes = ChargedBytes;
        usage.ModelsResident = Models.Count;
        return usage;
    }

    /// <summary>Set once the slice is released: a load finishing after that must not leave its model here.</summary>
    public bool Released { get; private set; }

    public void RetireAll()
    {
        Released = true;
        foreach (LoadedModel model in Models.Values)
        {
            model.Retire();
        }

        Models.Clear();
        foreach (SliceModelEntry entry in Catalog.Values)
        {
            entry.Resident = null;
        }

        Catalog.Clear();
    }
}
