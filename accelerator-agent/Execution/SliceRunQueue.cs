namespace AccelBroker.Agent.Execution;

/// <summary>
/// The runs of one slice admitted and not yet executing, bounded by <see cref="AgentOptions.MaxQueuePerSlice"/>:
/// a run past the bound is refused before it takes anything, instead of waiting without bound.
/// </summary>
internal sealed class SliceRunQueue
{
    private int _queued;

    /// <summary>Runs admitted that have not started executing nor ended.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>A place in the queue, or null when <paramref name="limit"/> runs hold one already.</summary>
    public QueueTicket? TryEnter(int limit)
    {
        int queued = Volatile.Read(ref _queued);
        while (queued < limit)
        {
            int seen = Interlocked.CompareExchange(ref _queued, queued + 1, queued);
            if (seen == queued)
            {
                return new QueueTicket(this);
            }

            queued = seen;
        }

        return null;
    }

    internal void Leave() => Interlocked.Decrement(ref _queued);
}
