namespace AccelBroker.Agent.Isolation;

/// <summary>
/// How many threads of one agent may watch lanes for answers at once (<see cref="ReplyWatch"/>): one per two
/// cores, so watchers never hold the cores the workers run on. One per agent, shared by its workers.
/// </summary>
internal sealed class WatchSlots
{
    private readonly int _max;
    private int _taken;

    public WatchSlots(TimeSpan watch, int processors)
    {
        Watch = watch;
        _max = processors < 2 ? 0 : processors / 2;
    }

    /// <summary>How long a watch lasts at most; zero when watching is off.</summary>
    public TimeSpan Watch { get; }

    public bool TryTake()
    {
        if (Interlocked.Increment(ref _taken) > _max)
        {
            Interlocked.Decrement(ref _taken);
            return false;
        }

        return true;
    }

    public void Return() => Interlocked.Decrement(ref _taken);
}
