using Grpc.Core;

namespace AccelBroker.Cli.Load;

/// <summary>The state of one <see cref="LoadEngine"/> run: the stop rule's counters, the records and the windows so far.</summary>
internal sealed class LoadRun : IDisposable
{
    // Calls still in flight after an open loop stops issuing get this long to complete (their own deadlines are shorter).
    private static readonly TimeSpan DrainLimit = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaxTick = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MinTick = TimeSpan.FromMilliseconds(10);

    private readonly TimeProvider _time;
    private readonly StopRule _stop;
    private readonly Func<CancellationToken, Task> _call;
    private readonly CancellationToken _interrupt;
    private readonly long _startedAt;
    private readonly CancellationTokenSource _stopIssuing;
    private readonly CancellationTokenSource _finished = new();
    private readonly Lock _lock = new();
    private readonly List<RequestRecord> _records = [];
    private readonly WindowSplitter _windows;
    private int _arrivals;
    private int _notIssued;
    private int _outstanding;
    private string? _stoppedBecause;

    public LoadRun(TimeProvider time, StopRule stop, Func<CancellationToken, Task> call, CancellationToken interrupt)
    {
        _time = time;
        _stop = stop;
        _call = call;
        _interrupt = interrupt;
        _windows = new WindowSplitter(stop.Windows);
        _stopIssuing = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
        _startedAt = time.GetTimestamp();
    }

    private TimeSpan Now => _time.GetElapsedTime(_startedAt);

    public void StopIssuing(string because)
    {
        Interlocked.CompareExchange(ref _stoppedBecause, because, null);
        _stopIssuing.Cancel();
    }

    public Task ClosedLoopAsync(int callers) =>
        Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            while (TryReserve())
            {
                TimeSpan now = Now;
                await CallAsync(now);
            }
        })));

    public async Task OpenLoopAsync(LoadMode.Open open)
    {
        var arrivals = new PoissonArrivals(open.RatePerSecond, open.Seed);
        while (true)
        {
            TimeSpan at = arrivals.Next();
            if (at >= _stop.TimeLimit)
            {
                StopIssuing(_stop.Duration is null ? LoadEngine.StopTimeLimit : LoadEngine.StopDuration);
                break;
            }

            // Timers fire about once a millisecond: arrivals closer than that go out together, each with its own intended start.
            TimeSpan wait = at - Now;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                try
                {
                    await Task.Delay(wait, _time, _stopIssuing.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            if (!TryReserve())
            {
                break;
            }

            if (Interlocked.Increment(ref _outstanding) > open.MaxOutstanding)
            {
                Interlocked.Decrement(ref _outstanding);
                Interlocked.Increment(ref _notIssued);
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await CallAsync(at);
                }
                finally
                {
                    Interlocked.Decrement(ref _outstanding);
                }
            });
        }

        long drainStart = _time.GetTimestamp();
        while (Volatile.Read(ref _outstanding) > 0 && _time.GetElapsedTime(drainStart) < DrainLimit)
        {
            await Task.Delay(DrainPoll, _time);
        }
    }

    /// <summary>Ends <see cref="MonitorAsync"/>: the loops are over, calls in flight included.</summary>
    public void Finished() => _finished.Cancel();

    /// <summary>
    /// Checks the clock and the windows until issuing stops, and reports progress each tick until the loops are over
    /// (a display shows the calls still completing).
    /// </summary>
    public async Task MonitorAsync(Action<LoadProgress>? progress)
    {
        TimeSpan tick = TimeSpan.FromTicks(Math.Clamp(_stop.Windows.Length.Ticks / 10, MinTick.Ticks, MaxTick.Ticks));
        while (!_finished.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(tick, _time, _finished.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (Now >= _stop.TimeLimit && !_stopIssuing.IsCancellationRequested)
            {
                StopIssuing(_stop.Duration is null ? LoadEngine.StopTimeLimit : LoadEngine.StopDuration);
            }

            int completed, windows;
            bool stable;
            lock (_lock)
            {
                completed = _records.Count;
                windows = _windows.Windows.Count;
                stable = _stop.UntilStable && Stability.IsStable(_windows.Windows, _stop.Windows);
            }

            if (_stopIssuing.IsCancellationRequested)
            {
                // Already stopped: only progress from here.
            }
            else if (stable)
            {
                StopIssuing(LoadEngine.StopStable);
            }
            else if (_stop.UntilStable && windows >= _stop.MaxWindows)
            {
                StopIssuing(LoadEngine.StopMaxWindows);
            }

            progress?.Invoke(new LoadProgress(completed, Now, windows, Volatile.Read(ref _arrivals), Volatile.Read(ref _notIssued)));
        }
    }

    public LoadResult Finish(LoadMode mode, GeneratorCpu cpu)
    {
        lock (_lock)
        {
            IReadOnlyList<LoadWindow> windows = _windows.Finish();
            TimeSpan measured = _records.Count > 0 ? _records.Max(r => r.Completed) : Now;
            string because = _interrupt.IsCancellationRequested ? LoadEngine.StopInterrupted : _stoppedBecause ?? LoadEngine.StopRequests;
            return new LoadResult(mode, _stop, [.. _records], windows, Stability.IsStable(windows, _stop.Windows), measured, _arrivals, _notIssued, because, cpu);
        }
    }

    public void Dispose()
    {
        _stopIssuing.Dispose();
        _finished.Dispose();
    }

    private bool TryReserve()
    {
        if (_stopIssuing.IsCancellationRequested)
        {
            return false;
        }

        if (Now >= _stop.TimeLimit)
        {
            StopIssuing(_stop.Duration is null ? LoadEngine.StopTimeLimit : LoadEngine.StopDuration);
            return false;
        }

        if (Interlocked.Increment(ref _arrivals) > (_stop.Requests ?? int.MaxValue))
        {
            Interlocked.Decrement(ref _arrivals);
            StopIssuing(LoadEngine.StopRequests);
            return false;
        }

        return true;
    }

    private async Task CallAsync(TimeSpan intended)
    {
        TimeSpan start = Now;
        StatusCode status;
        try
        {
            await _call(_interrupt);
            status = StatusCode.OK;
        }
        catch (Exception) when (_interrupt.IsCancellationRequested)
        {
            // Cut off by the user's interruption: neither a success nor the accelerator's failure.
            return;
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            status = StatusCode.Unknown;
        }

        var record = new RequestRecord(intended, start, (Now - intended).TotalMilliseconds, status);
        lock (_lock)
        {
            _records.Add(record);
            _windows.Add(record);
        }
    }
}
