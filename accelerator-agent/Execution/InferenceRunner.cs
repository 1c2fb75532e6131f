using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Isolation;
using AccelBroker.Hosting.Errors;

namespace AccelBroker.Agent.Execution;

/// <summary>
/// Runs forward passes, in the worker process of the model's slice. Only as many run at once as the scheduler
/// has slots, because each pass uses all of its process's intra-op threads and concurrent passes would
/// oversubscribe the cores; the slots go to slices by their compute shares.
/// </summary>
internal sealed class InferenceRunner
{
    private readonly ComputeScheduler _scheduler;
    private readonly ComputeDevice _device;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxRunTime;

    /// <summary>How long after its call's deadline a pass is stopped: the caller has given up by then.</summary>
    public static readonly TimeSpan DeadlineGrace = TimeSpan.FromSeconds(1);

    public InferenceRunner(ComputeDevice device, ComputeScheduler scheduler, AgentOptions options, TimeProvider time)
    {
        _device = device;
        _scheduler = scheduler;
        _maxRunTime = options.MaxRunTime;
        _time = time;
    }

    public ComputeDevice Device => _device;

    /// <summary>Runs once, when the scheduler grants <paramref name="sliceId"/> a slot; its queue time is the wait for it.</summary>
    /// <param name="sliceId">Who the execution time is charged to: a slice, or <see cref="LocalBenchmark.ComputeTenant"/>.</param>
    /// <param name="share">That tenant's compute share, in (0, 1].</param>
    /// <param name="started">Told once the slot is held and the pass is about to go to the worker.</param>
    public async Task<ExecutionResult> RunAsync(LoadedModel model, string sliceId, double share, IReadOnlyList<WireTensor> inputs, bool nativeOutputDtype, DateTime deadline, Action? started, CancellationToken cancellationToken)
    {
        long queued = _time.GetTimestamp();
        // A forward pass cannot be cancelled once started: refuse work whose deadline has passed.
        ThrowIfPast(deadline, "before it was queued");
        using ComputeLease lease = await _scheduler.AcquireAsync(sliceId, share, deadline, cancellationToken);
        // Again: the deadline may pass between the grant and this continuation; the slot is then given back unused.
        ThrowIfPast(deadline, "while it was queued");
        started?.Invoke();
        double queueSeconds = _time.GetElapsedTime(queued).TotalSeconds;
        TimeSpan limit = deadline == DateTime.MaxValue
            ? _maxRunTime
            : TimeSpan.FromTicks(Math.Clamp((deadline - _time.GetUtcNow().UtcDateTime + DeadlineGrace).Ticks, 0, _maxRunTime.Ticks));
        Task<ExecutionResult> run = model.Worker.RunAsync(model.Handle, inputs, nativeOutputDtype, queueSeconds);
        try
        {
            return await run.WaitAsync(limit, _time);
        }
        catch (TimeoutException)
        {
            // A pass cannot be interrupted inside libtorch: its process goes, and with it the slot it held.
            model.Worker.Kill();
            _ = run.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            throw DomainException.Deadline($"the run did not finish within {limit.TotalSeconds:0.#} s of its call's time; its slice's worker process was stopped, and the slice's models reload on their next run");
        }
        catch (WorkerCrashedException ex)
        {
            throw Crashed(ex.Crash);
        }
    }

    /// <summary>
    /// Runs other device work of <paramref name="sliceId"/> (a load and its warm-up) when the scheduler grants it a
    /// slot, charged to it like a run: it neither oversubscribes the cores nor takes another slice's share.
    /// </summary>
    public async Task<T> WithSlotAsync<T>(string sliceId, double share, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        using ComputeLease lease = await _scheduler.AcquireAsync(sliceId, share, cancellationToken);
        return await work();
    }

    /// <summary>The status of a run whose forward pass took its worker process down.</summary>
    public static DomainException Crashed(string crash) =>
        DomainException.Internal(
            $"the model crashed its slice's worker process while running ({crash}); the slice's models reload on their next run");

    private void ThrowIfPast(DateTime deadline, string when)
    {
        if (deadline != DateTime.MaxValue && _time.GetUtcNow().UtcDateTime >= deadline)
        {
            throw DomainException.Deadline($"the call's deadline passed {when}; the model was not run");
        }
    }
}
