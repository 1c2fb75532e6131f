namespace AccelBroker.Agent.Registration;

/// <summary>
/// Whether this agent may still serve its slices. The broker moves an agent's slices only after it has been silent past
/// its limit and the failover grace, and tells each agent a shorter <c>fence_after</c>. An agent that itself failed to
/// complete a heartbeat attempt for that long (it was frozen with SIGSTOP, or starved) cannot know whether its slices
/// moved meanwhile, so it serves none of them until a heartbeat answer says which it still holds. An agent that kept
/// trying but could not reach the broker (the broker is down or restarting) keeps serving: the broker cannot move
/// anything while it is down, and the data path must not depend on it.
/// </summary>
internal sealed class BrokerLease(TimeProvider time)
{
    private readonly Lock _lock = new();
    private TimeSpan _fenceAfter = Timeout.InfiniteTimeSpan;
    private long _lastContact;
    private bool _fenced;

    /// <summary>How long this agent has not completed a heartbeat attempt.</summary>
    public TimeSpan SilentFor
    {
        get
        {
            lock (_lock)
            {
                return _fenceAfter == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : time.GetElapsedTime(_lastContact);
            }
        }
    }

    /// <summary>The limit the broker set; infinite until the agent has registered (or without a broker).</summary>
    public TimeSpan FenceAfter
    {
        get
        {
            lock (_lock)
            {
                return _fenceAfter;
            }
        }
    }

    /// <summary>True while the agent must not serve its slices.</summary>
    public bool IsFenced
    {
        get
        {
            lock (_lock)
            {
                return _fenceAfter != Timeout.InfiniteTimeSpan && (_fenced || time.GetElapsedTime(_lastContact) > _fenceAfter);
            }
        }
    }

    /// <summary>
    /// The broker answered a registration or heartbeat and the held slices were reconciled with its list: serve again.
    /// <paramref name="fenceAfter"/> is the broker's limit (kept when <see langword="null"/>).
    /// </summary>
    public void Confirmed(TimeSpan? fenceAfter = null)
    {
        lock (_lock)
        {
            if (fenceAfter is { } limit && limit > TimeSpan.Zero)
            {
                _fenceAfter = limit;
            }

            _lastContact = time.GetTimestamp();
            _fenced = false;
        }
    }

    /// <summary>
    /// A heartbeat attempt ended without an answer (broker unreachable). If the previous attempt ended within the limit,
    /// the agent was running all along and keeps serving; if not, it was frozen or starved and stays fenced until confirmed.
    /// </summary>
    /// <returns>True when this attempt fenced the agent.</returns>
    public bool Unanswered()
    {
        lock (_lock)
        {
            if (_fenceAfter == Timeout.InfiniteTimeSpan || _fenced)
            {
                return false;
            }

            if (time.GetElapsedTime(_lastContact) > _fenceAfter)
            {
                _fenced = true;
                return true;
            }

            _lastContact = time.GetTimestamp();
            return false;
        }
    }
}
