namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// Starts and stops users so that their number follows a <see cref="LoadShape"/>, as Locust's runner does: towards each
/// stage's users at its spawn rate (the first of a change at once, then one per 1/rate seconds), the newest users
/// stopped first. A stopped user finishes the request it is in and then ends (its stop token is cancelled).
/// Time comes from the injected <see cref="TimeProvider"/>: each <see cref="Tick"/> reads the clock and makes the
/// changes due since the last, so tests step it with a fake clock. Not thread-safe: one driver calls Tick.
/// </summary>
internal sealed class UserScheduler
{
    private readonly LoadShape _shape;
    private readonly TimeProvider _time;
    private readonly Func<int, CancellationToken, Task> _user;
    private readonly long _started;
    private readonly List<(Task Task, CancellationTokenSource Stop)> _running = [];
    private readonly List<Task> _stopped = [];
    // The ramp under way: since when, in which stage, and the changes made in it (owed: one at once, then rate per second).
    private TimeSpan? _rampStart;
    private int _rampStage;
    private long _rampChanges;
    private int _nextUser;
    private int _users;

    /// <param name="shape">The users over time.</param>
    /// <param name="time">The clock; the shape's time 0 is this constructor's call.</param>
    /// <param name="user">A user's loop, given its number (0, 1, …) and a token cancelled when it is to stop.</param>
    public UserScheduler(LoadShape shape, TimeProvider time, Func<int, CancellationToken, Task> user)
    {
        _shape = shape;
        _time = time;
        _user = user;
        _started = time.GetTimestamp();
    }

    /// <summary>Users running now (stopped ones that still finish a request are not counted).</summary>
    public int Users => Volatile.Read(ref _users);

    /// <summary>Time since the start.</summary>
    public TimeSpan Elapsed => _time.GetElapsedTime(_started);

    /// <summary>
    /// Starts or stops the users due by now; returns the stage running, or -1 once the shape has ended (then nothing
    /// changes: <see cref="StopAllAsync"/> ends the users).
    /// </summary>
    public int Tick()
    {
        TimeSpan now = Elapsed;
        int stage = _shape.StageAt(now);
        if (stage < 0)
        {
            return -1;
        }

        LoadStage target = _shape.Stages[stage];
        int difference = target.Users - _running.Count;
        if (difference == 0)
        {
            // Steady: the next change starts a ramp of its own.
            _rampStart = null;
        }
        else
        {
            if (_rampStart is null || _rampStage != stage)
            {
                _rampStart = now;
                _rampStage = stage;
                _rampChanges = 0;
            }

            // From the ramp's start rather than summed per tick, so rounding never loses a user (1e-9: 10 × 0.1 s is 1 user).
            long owed = 1 + (long)Math.Floor((target.SpawnRate * (now - _rampStart.Value).TotalSeconds) + 1e-9);
            int changes = (int)Math.Min(Math.Abs(difference), Math.Max(0, owed - _rampChanges));
            _rampChanges += changes;
            for (int i = 0; i < changes; i++)
            {
                if (difference > 0)
                {
                    Start();
                }
                else
                {
                    StopNewest();
                }
            }

            // Users read it from their own threads, for the users running when a request fails.
            Volatile.Write(ref _users, _running.Count);
        }

        return stage;
    }

    /// <summary>Stops every user and waits until each has finished its request (or, when the caller cancelled them, given up).</summary>
    public async Task StopAllAsync()
    {
        while (_running.Count > 0)
        {
            StopNewest();
        }

        Volatile.Write(ref _users, 0);
        await Task.WhenAll(_stopped);
    }

    private void Start()
    {
        var stop = new CancellationTokenSource();
        int number = _nextUser++;
        // Off the driver's thread: a user's first request must not hold up the ticks.
        _running.Add((Task.Run(() => _user(number, stop.Token), CancellationToken.None), stop));
    }

    private void StopNewest()
    {
        (Task task, CancellationTokenSource stop) = _running[^1];
        _running.RemoveAt(_running.Count - 1);
        stop.Cancel();
        _stopped.Add(task.ContinueWith(_ => stop.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
        _stopped.Add(task);
    }
}
