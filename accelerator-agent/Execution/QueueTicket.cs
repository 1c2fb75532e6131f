namespace AccelBroker.Agent.Execution;

/// <summary>
/// One run's place in its slice's <see cref="SliceRunQueue"/>, given up once: when the run starts executing (it got
/// its slot, or its batch did) or when it ends without, whichever comes first.
/// </summary>
internal sealed class QueueTicket : IDisposable
{
    private readonly SliceRunQueue _queue;
    private int _left;

    internal QueueTicket(SliceRunQueue queue) => _queue = queue;

    /// <summary>Whether the run began executing: a failure after it is the execution's, not the queue's.</summary>
    public bool Started { get; private set; }

    /// <summary>The run begins executing: its place goes to the next caller.</summary>
    public void Start()
    {
        Started = true;
        Leave();
    }

    public void Dispose() => Leave();

    private void Leave()
    {
        if (Interlocked.Exchange(ref _left, 1) == 0)
        {
            _queue.Leave();
        }
    }
}
