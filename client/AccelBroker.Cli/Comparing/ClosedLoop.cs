using System.Diagnostics;

namespace AccelBroker.Cli.Comparing;

/// <summary>
/// The closed loop of <c>accel compare --concurrency N</c>: N callers, each with one call in flight, take the
/// measured runs from one shared count until all are done. Every caller first makes its warm-up calls; the clock
/// starts once all have. Local to compare until it is unified with bench's load engine.
/// </summary>
internal sealed class ClosedLoop
{
    private readonly int _callers;
    private readonly int _runs;
    private readonly double[] _latencies;
    private readonly double[] _completedAt;
    private readonly Action? _measuredRun;
    private int _taken;
    private int _completed;
    private int _warm;
    private long _begin;

    private ClosedLoop(int callers, int runs, Action? measuredRun)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(callers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        _callers = callers;
        _runs = runs;
        _latencies = new double[runs];
        _completedAt = new double[runs];
        _measuredRun = measuredRun;
    }

    /// <summary>Asynchronous calls (through a session): callers are tasks, the clock starts when the last is warm.</summary>
    /// <param name="call">One call by caller <c>i</c> (0..callers-1); one caller's calls never overlap.</param>
    public static async Task<ClosedLoopResult> RunAsync(int callers, int runs, int warmup, Func<int, CancellationToken, Task> call, Action? measuredRun, CancellationToken cancellationToken)
    {
        var loop = new ClosedLoop(callers, runs, measuredRun);
        var allWarm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        async Task CallerAsync(int caller)
        {
            try
            {
                for (int i = 0; i < warmup; i++)
                {
                    await call(caller, stop.Token);
                }

                if (loop.Warm())
                {
                    allWarm.TrySetResult();
                }

                await allWarm.Task.WaitAsync(stop.Token);
                while (loop.TryTake())
                {
                    long started = Stopwatch.GetTimestamp();
                    await call(caller, stop.Token);
                    loop.Record(started);
                }
            }
            catch
            {
                // The others stop too, rather than wait for a caller that is gone.
                await stop.CancelAsync();
                throw;
            }
        }

        Task[] all = [.. Enumerable.Range(0, callers).Select(c => Task.Run(() => CallerAsync(c), CancellationToken.None))];
        await WhenAllFirstFailureAsync(all);
        return loop.Result();
    }

    /// <summary>Synchronous calls (in-process compute): each caller is its own thread, so N callers really run at once.</summary>
    public static async Task<ClosedLoopResult> RunOnThreadsAsync(int callers, int runs, int warmup, Action<int, CancellationToken> call, Action? measuredRun, CancellationToken cancellationToken)
    {
        var loop = new ClosedLoop(callers, runs, measuredRun);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var allWarm = new ManualResetEventSlim();

        void Caller(int caller)
        {
            try
            {
                for (int i = 0; i < warmup; i++)
                {
                    call(caller, stop.Token);
                }

                if (loop.Warm())
                {
                    allWarm.Set();
                }

                allWarm.Wait(stop.Token);
                while (loop.TryTake())
                {
                    long started = Stopwatch.GetTimestamp();
                    call(caller, stop.Token);
                    loop.Record(started);
                }
            }
            catch
            {
                stop.Cancel();
                throw;
            }
        }

        Task[] all = [.. Enumerable.Range(0, callers).Select(c => Task.Factory.StartNew(() => Caller(c), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
        await WhenAllFirstFailureAsync(all);
        return loop.Result();
    }

    private bool Warm()
    {
        if (Interlocked.Increment(ref _warm) != _callers)
        {
            return false;
        }

        _begin = Stopwatch.GetTimestamp();
        return true;
    }

    // Bounded by the run count: each measured call takes one of the runs, or its caller stops.
    private bool TryTake() => Interlocked.Increment(ref _taken) <= _runs;

    private void Record(long started)
    {
        long ended = Stopwatch.GetTimestamp();
        int slot = Interlocked.Increment(ref _completed) - 1;
        _latencies[slot] = Stopwatch.GetElapsedTime(started, ended).TotalMilliseconds;
        _completedAt[slot] = Stopwatch.GetElapsedTime(_begin, ended).TotalSeconds;
        _measuredRun?.Invoke();
    }

    private ClosedLoopResult Result()
    {
        // Slots are taken in completion order, but a later slot may be written an instant before an earlier one.
        Array.Sort(_completedAt, _latencies);
        return new ClosedLoopResult(_callers, _latencies, _completedAt, _completedAt[^1]);
    }

    // The first real failure, not the cancellations it caused in the other callers.
    private static async Task WhenAllFirstFailureAsync(Task[] all)
    {
        try
        {
            await Task.WhenAll(all);
        }
        catch
        {
            Exception? first = all.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (first is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            }

            throw;
        }
    }
}
