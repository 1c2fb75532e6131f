namespace AccelBroker.Agent.Execution;

/// <summary>One execution slot held by a slice; disposing it charges the time used to the slice.</summary>
internal sealed class ComputeLease : IDisposable
{
    private readonly ComputeScheduler.Tenant _tenant;
    private long _started;
    private int _disposed;

    internal ComputeLease(ComputeScheduler.Tenant tenant, long started)
    {
        _tenant = tenant;
        _started = started;
    }

    public string SliceId => _tenant.SliceId;

    /// <summary>Starts the clock again, when the holder actually begins: the wait for it to be scheduled is no slice's use.</summary>
    internal void Restart(long started) => _started = started;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _tenant.Scheduler.Release(_tenant, _started);
        }
    }
}
