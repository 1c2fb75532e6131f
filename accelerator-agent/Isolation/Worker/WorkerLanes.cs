using System.Collections.Concurrent;
using AccelBroker.Agent.Isolation.Protocol;

namespace AccelBroker.Agent.Isolation.Worker;

/// <summary>
/// The worker's side of the shared-memory lanes: input lanes the agent created (mapped on first sight of a
/// generation) and output lanes this worker creates and grows. A lane serves one command at a time.
/// </summary>
internal sealed class WorkerLanes
{
    private readonly ConcurrentDictionary<int, SharedLane> _inputs = new();
    private readonly ConcurrentDictionary<int, SharedLane> _outputs = new();
    private readonly string _prefix = $"accelbroker-worker-{Environment.ProcessId}";
    private long _generation;

    public SharedLane Input(LaneRef lane)
    {
        if (_inputs.TryGetValue(lane.Lane, out SharedLane? mapped) && mapped.Generation == lane.Generation)
        {
            return mapped;
        }

        if (lane.Path.Length == 0)
        {
            throw new InvalidDataException($"input lane {lane.Lane} generation {lane.Generation} is unknown to the worker and names no file");
        }

        SharedLane opened = SharedLane.Open(lane.Path, lane.Generation, lane.Capacity);
        mapped?.Dispose();
        _inputs[lane.Lane] = opened;
        return opened;
    }

    /// <summary>The output lane for <paramref name="lane"/> with room for <paramref name="needed"/> bytes; its file is named only when new.</summary>
    public (SharedLane Lane, LaneRef Ref) Output(int lane, long needed)
    {
        if (_outputs.TryGetValue(lane, out SharedLane? current) && current.Capacity >= needed)
        {
            return (current, new LaneRef { Lane = lane, Generation = current.Generation, Capacity = current.Capacity });
        }

        // The agent maps the new file when it reads the reply, then unlinks it.
        SharedLane created = SharedLane.Create($"{_prefix}-out{lane}", Interlocked.Increment(ref _generation), needed);
        current?.Dispose();
        _outputs[lane] = created;
        return (created, new LaneRef { Lane = lane, Generation = created.Generation, Capacity = created.Capacity, Path = created.Path });
    }
}
