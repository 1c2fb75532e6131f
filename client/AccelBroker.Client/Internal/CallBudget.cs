namespace AccelBroker.Client.Internal;

/// <summary>
/// One application call's time: a deadline fixed when the call starts (from the session's call timeout), which every
/// attempt, re-resolution and reload shares, and the backoff between recovery attempts (100 ms doubling to 2 s,
/// jittered, never past the deadline).
/// </summary>
internal readonly struct CallBudget
{
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    private readonly TimeProvider _time;

    public CallBudget(TimeProvider time, TimeSpan timeout)
    {
        _time = time;
        DateTimeOffset now = time.GetUtcNow();
        // An effectively endless timeout must not overflow the deadline.
        Deadline = timeout >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now + timeout;
    }

    public DateTimeOffset Deadline { get; }

    /// <summary>The deadline in the form gRPC calls take.</summary>
    public DateTime GrpcDeadline => Deadline == DateTimeOffset.MaxValue ? DateTime.MaxValue : Deadline.UtcDateTime;

    /// <summary>What is left of the call's time; zero once the deadline has passed.</summary>
    public TimeSpan Remaining
    {
        get
        {
            TimeSpan left = Deadline - _time.GetUtcNow();
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    public bool Expired => Remaining == TimeSpan.Zero;

    /// <summary>
    /// The pause before recovery attempt <paramref name="retry"/> (0: the first, at once, since the accelerator may have
    /// moved already), with <paramref name="jitter"/> in [0, 1) spreading it over its upper half so that many sessions
    /// that failed together do not ask the broker together; never longer than what is left.
    /// </summary>
    public TimeSpan DelayBefore(int retry, double jitter)
    {
        TimeSpan delay = Backoff(retry, jitter);
        TimeSpan left = Remaining;
        return delay < left ? delay : left;
    }

    public static TimeSpan Backoff(int retry, double jitter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retry);
        if (jitter is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "jitter must be in [0, 1)");
        }

        if (retry == 0)
        {
            return TimeSpan.Zero;
        }

        // Doubling stops at the cap long before the shift could overflow.
        TimeSpan full = retry > 16 ? MaxBackoff : FirstBackoff * (1L << (retry - 1));
        if (full > MaxBackoff)
        {
            full = MaxBackoff;
        }

        return full * (0.5 + (0.5 * jitter));
    }
}
