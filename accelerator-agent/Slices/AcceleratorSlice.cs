using System.Collections.Concurrent;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Metering;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Slices;

/// <summary>A share of this agent's device placed here by the broker, and the models loaded on it.</summary>
internal sealed class AcceleratorSlice
{
    public AcceleratorSlice(SliceAssignment assignment)
    {
        Assignment = assignment;
        Usage = new SliceUsageMeter(assignment.SliceId);
    }

    public SliceAssignment Assignment { get; }

    public string Id => Assignment.SliceId;

    /// <summary>What ran here since the slice was assigned.</summary>
    public SliceUsageMeter Usage { get; }

    public ConcurrentDictionary<string, LoadedModel> Models { get; } = new(StringComparer.Ordinal);

    /// <summary>Serializes loads so one model is never loaded twice concurrently.</summary>
    public SemaphoreSlim LoadGate { get; } = new(1, 1);

    public void RetireAll()
    {
        foreach (LoadedModel model in Models.Values)
        {
            model.Retire();
        }

        Models.Clear();
    }
}
