using AccelBroker.Hosting.Errors;

namespace AccelBroker.Agent.Execution;

/// <summary>
/// Hands the agent's execution slots to slices in proportion to their compute shares (start-time fair
/// queuing). Each slice has a virtual clock that advances by the execution time it used divided by its
/// share; a free slot goes to the waiting slice whose clock is furthest behind. Under contention each slice
/// therefore gets its share of execution time; a slot nobody else wants goes to whoever asks, so idle shares
/// are borrowed. A slice that was idle restarts at the current virtual time: idleness is not saved up.
/// Each slice's execution time is also summed, so operators can see the share of compute it used.
/// A waiter whose deadline has passed when a slot would go to it is answered DeadlineExceeded and never holds it.
/// </summary>
internal sealed class ComputeScheduler
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Tenant> _tenants = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Func<string, bool> _isGone;
    private int _free;
    private double _virtualNow;

    /// <param name="slots">Executions that may run at once.</param>
    /// <param name="time">The clock execution time is measured with.</param>
    /// <param name="isGone">
    /// Whether a slice was released: its tenant is forgotten once nothing of it waits or runs. Asked each time, so
    /// a run that took its model just before the release and asks for a slot after it leaves nothing behind.
    /// </param>
    public ComputeScheduler(int slots, TimeProvider time, Func<string, bool> isGone)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        Slots = slots;
        _free = slots;
        _time = time;
        _isGone = isGone;
    }

    /// <summary>Executions that may run at once.</summary>
    public int Slots { get; }

    /// <summary>Requests waiting for a slot, across all slices.</summary>
    public int QueueDepth
    {
        get
        {
            lock (_gate)
            {
                return _tenants.Values.Sum(t => t.Waiters.Count);
            }
        }
    }

    /// <summary>What <paramref name="sliceId"/> waits for and has used; zeros for a slice never seen or forgotten.</summary>
    public ComputeUsage UsageOf(string sliceId)
    {
        lock (_gate)
        {
            return _tenants.TryGetValue(sliceId, out Tenant? tenant)
                ? new ComputeUsage(tenant.Waiters.Count, tenant.SecondsUsed, tenant.Running)
                : default;
        }
    }

    /// <summary>Waits for a slot for <paramref name="sliceId"/>; dispose the lease when the execution ends.</summary>
    public ValueTask<ComputeLease> AcquireAsync(string sliceId, double share, CancellationToken cancellationToken) =>
        AcquireAsync(sliceId, share, DateTime.MaxValue, cancellationToken);

    /// <summary>
    /// Waits for a slot for <paramref name="sliceId"/> until <paramref name="deadline"/> (UTC): past it, the slot goes
    /// to the next waiter and this one fails with a DeadlineExceeded <see cref="DomainException"/>.
    /// </summary>
    public ValueTask<ComputeLease> AcquireAsync(string sliceId, double share, DateTime deadline, CancellationToken cancellationToken)
    {
        if (!(share > 0 && share <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(share), share, "a compute share is greater than 0 and at most 1");
        }

        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_gate)
        {
            Tenant tenant = Activate(sliceId, share);
            if (_free > 0 && !_tenants.Values.Any(t => t.Waiters.Count > 0))
            {
                _free--;
                return ValueTask.FromResult(Grant(tenant));
            }

            waiter = new Waiter(tenant, deadline);
            tenant.Waiters.AddLast(waiter.Node);
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(() => Cancel(waiter, cancellationToken));
        }

        return WaitAsync(waiter.Completion.Task);
    }

    /// <summary>
    /// Told that a slice is gone: it is forgotten at once if nothing of it waits or runs, else when its last
    /// execution ends, so runs already under way are still charged and scheduled fairly.
    /// </summary>
    public void Remove(string sliceId)
    {
        lock (_gate)
        {
            if (_tenants.TryGetValue(sliceId, out Tenant? tenant))
            {
                ForgetIfDone(tenant);
            }
        }
    }

    // A granted waiter resumes on the thread pool, which on a busy machine can take hundreds of ms while the
    // slot sits reserved and idle. Charging that to the slice would make its share depend on the pool's luck:
    // its lease is charged from when it resumes.
    private async ValueTask<ComputeLease> WaitAsync(Task<ComputeLease> granted)
    {
        ComputeLease lease = await granted;
        lease.Restart(_time.GetTimestamp());
        return lease;
    }

    internal void Release(Tenant tenant, long startedTimestamp)
    {
        double seconds = _time.GetElapsedTime(startedTimestamp).TotalSeconds;
        var granted = new List<(Waiter Waiter, ComputeLease Lease)>();
        List<Waiter>? expired = null;
        DateTime now = _time.GetUtcNow().UtcDateTime;
        lock (_gate)
        {
            tenant.Running--;
            tenant.VirtualTime += seconds / tenant.Share;
            tenant.SecondsUsed += seconds;
            _free++;
            while (_free > 0 && Next() is { } next)
            {
                next.Tenant.Waiters.Remove(next.Node);
                if (now >= next.Deadline)
                {
                    (expired ??= []).Add(next);
                    ForgetIfDone(next.Tenant);
                    continue;
                }

                _free--;
                granted.Add((next, Grant(next.Tenant)));
            }

            ForgetIfDone(tenant);
        }

        foreach (Waiter waiter in expired ?? [])
        {
            waiter.Registration.Dispose();
            waiter.Completion.TrySetException(DomainException.Deadline("the call's deadline passed while it waited for an execution slot; the model was not run"));
        }

        // Completing outside the lock: continuations may run inline.
        foreach ((Waiter waiter, ComputeLease lease) in granted)
        {
            waiter.Registration.Dispose();
            if (!waiter.Completion.TrySetResult(lease))
            {
                lease.Dispose();
            }
        }
    }

    private Tenant Activate(string sliceId, double share)
    {
        if (!_tenants.TryGetValue(sliceId, out Tenant? tenant))
        {
            tenant = new Tenant(this, sliceId) { VirtualTime = _virtualNow };
            _tenants.Add(sliceId, tenant);
        }

        tenant.Share = share;
        if (tenant.Running == 0 && tenant.Waiters.Count == 0)
        {
            tenant.VirtualTime = Math.Max(tenant.VirtualTime, _virtualNow);
        }

        return tenant;
    }

    private ComputeLease Grant(Tenant tenant)
    {
        _virtualNow = Math.Max(_virtualNow, tenant.VirtualTime);
        tenant.Running++;
        return new ComputeLease(tenant, _time.GetTimestamp());
    }

    private Waiter? Next()
    {
        Tenant? best = null;
        foreach (Tenant tenant in _tenants.Values)
        {
            if (tenant.Waiters.Count > 0 && (best is null || tenant.VirtualTime < best.VirtualTime))
            {
                best = tenant;
            }
        }

        return best?.Waiters.First!.Value;
    }

    private void Cancel(Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (waiter.Node.List is null)
            {
                return;
            }

            waiter.Tenant.Waiters.Remove(waiter.Node);
            ForgetIfDone(waiter.Tenant);
        }

        waiter.Completion.TrySetCanceled(cancellationToken);
    }

    private void ForgetIfDone(Tenant tenant)
    {
        if (tenant.Running == 0 && tenant.Waiters.Count == 0 && _isGone(tenant.SliceId))
        {
            _tenants.Remove(tenant.SliceId);
        }
    }

    internal sealed class Tenant(ComputeScheduler scheduler, string sliceId)
    {
        public ComputeScheduler Scheduler { get; } = scheduler;

        public string SliceId { get; } = sliceId;

        public double Share { get; set; }

        public double VirtualTime { get; set; }

        public int Running { get; set; }

        /// <summary>Execution time of its ended leases.</summary>
        public double SecondsUsed { get; set; }

        public LinkedList<Waiter> Waiters { get; } = new();
    }

    internal sealed class Waiter
    {
        public Waiter(Tenant tenant, DateTime deadline)
        {
            Tenant = tenant;
            Deadline = deadline;
            Node = new LinkedListNode<Waiter>(this);
        }

        public Tenant Tenant { get; }

        /// <summary>UTC; <see cref="DateTime.MaxValue"/> for none.</summary>
        public DateTime Deadline { get; }

        public LinkedListNode<Waiter> Node { get; }

        public TaskCompletionSource<ComputeLease> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }
}
