using System.Collections.Concurrent;
using System.Diagnostics;
using AccelBroker.Agent.Isolation.Protocol;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// Decides which runs the agent watches for in shared memory (<see cref="ReplyDoorbell"/>), and watches.
/// On these VMs waking a thread that sleeps on a pipe costs 25–120 µs, as much as a tiny model's whole pass;
/// a thread that is already awake when the answer lands pays nothing. The watcher yields its core on every turn,
/// so the worker (often woken onto the same core) runs first; a busy-spinning watcher was measured to delay the
/// worker's start by its whole watch. Only runs expected to answer within the watch are watched (a smoothed
/// round trip per model says how long it takes), by at most one thread per two cores (<see cref="WatchSlots"/>).
/// </summary>
internal sealed class ReplyWatch
{
    private readonly WatchSlots _slots;
    private readonly long _limit;
    private readonly ConcurrentDictionary<int, long> _roundTrip = new();

    public ReplyWatch(WatchSlots slots)
    {
        _slots = slots;
        _limit = (long)(slots.Watch.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>Whether to watch a run of <paramref name="handle"/>; if so, <see cref="End"/> must follow.</summary>
    public bool TryBegin(int handle) =>
        _limit > 0
        && !(_roundTrip.TryGetValue(handle, out long expected) && expected > _limit)
        && _slots.TryTake();

    public void End() => _slots.Return();

    /// <summary>
    /// What a run of <paramref name="handle"/> took from its command to its answer, watched or not. Smoothed
    /// (1/8 per run), so one slow pass neither stops the watching of a fast model nor starts it for a slow one.
    /// </summary>
    public void Observe(int handle, long roundTripTicks) =>
        _roundTrip.AddOrUpdate(handle, roundTripTicks, (_, expected) => expected + ((roundTripTicks - expected) / 8));

    public void Forget(int handle) => _roundTrip.TryRemove(handle, out _);

    /// <summary>
    /// Waits, yielding, until the lane's doorbell rings, <paramref name="answered"/> completes (the answer came on
    /// the pipe, or the worker ended), or the watch is over. Returns the answer when it is in the lane, else null:
    /// then it comes through <paramref name="answered"/>.
    /// </summary>
    public WorkerReply? Watch(SharedLane lane, long sentAt, Task answered)
    {
        long until = sentAt + _limit;
        while (!answered.IsCompleted && Stopwatch.GetTimestamp() < until)
        {
            if (ReplyDoorbell.IsRung(lane))
            {
                return ReplyDoorbell.Take(lane);
            }

            Thread.Yield();
        }

        // Disarmed first: a worker that rings after this sees it and answers on the pipe instead.
        return ReplyDoorbell.TryDisarm(lane) ? null : ReplyDoorbell.Take(lane);
    }
}
