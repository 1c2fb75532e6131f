using AccelBroker.Hosting.Errors;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// Keeps one live worker process for a slice: started ahead of the first load, replaced after a crash on the
/// next use. The process that crashed is disposed when it is replaced.
/// </summary>
internal sealed class SliceWorker : IAsyncDisposable
{
    /// <summary>How much more than at its start an empty worker may hold before it is replaced.</summary>
    public const long RecycleAboveBytes = 64L * 1024 * 1024;

    private readonly WorkerLaunch _launch;
    private readonly ILogger _logger;
    private readonly Action<WorkerProcess, string> _crashed;
    private readonly object _gate = new();
    private Task<WorkerProcess>? _current;
    private bool _disposed;
    private int _crashes;
    private int _recycles;

    public SliceWorker(string owner, WorkerLaunch launch, ILogger logger, Action<WorkerProcess, string> crashed)
    {
        Owner = owner;
        _launch = launch;
        _logger = logger;
        _crashed = crashed;
    }

    public string Owner { get; }

    /// <summary>The worker process now, if one is running.</summary>
    public WorkerProcess? Current
    {
        get
        {
            lock (_gate)
            {
                return _current is { IsCompletedSuccessfully: true } task && task.Result.IsAlive ? task.Result : null;
            }
        }
    }

    /// <summary>Workers of this slice that ended unasked (crashed or killed).</summary>
    public int Crashes => Volatile.Read(ref _crashes);

    /// <summary>Workers of this slice replaced because they held memory no model accounted for.</summary>
    public int Recycles => Volatile.Read(ref _recycles);

    /// <summary>
    /// Replaces the worker when it holds more than <see cref="RecycleAboveBytes"/> above its start: call it only
    /// when the slice has no model on it. The new worker starts now, in the background. Returns whether it did.
    /// </summary>
    public bool RecycleIfBloated()
    {
        lock (_gate)
        {
            if (_disposed || _current is not { IsCompletedSuccessfully: true } task || !task.Result.IsAlive
                || task.Result.ResidentBytes() is not { } resident || resident - task.Result.BaselineBytes <= RecycleAboveBytes)
            {
                return false;
            }

            _current = StartAsync(task);
            _recycles++;
        }

        // Already starting; this only observes a failed start, which the next use retries.
        Prestart();
        return true;
    }

    /// <summary>Starts the worker in the background, so the slice's first load does not wait for it.</summary>
    public void Prestart() => _ = GetAsync(CancellationToken.None).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);

    public Task<WorkerProcess> GetAsync(CancellationToken cancellationToken)
    {
        Task<WorkerProcess> current;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_current is null || _current.IsFaulted || _current.IsCanceled || (_current.IsCompletedSuccessfully && !_current.Result.IsAlive))
            {
                Task<WorkerProcess>? previous = _current;
                _current = StartAsync(previous);
            }

            current = _current;
        }

        return current.WaitAsync(cancellationToken);
    }

    private async Task<WorkerProcess> StartAsync(Task<WorkerProcess>? previous)
    {
        if (previous is { IsCompletedSuccessfully: true })
        {
            await previous.Result.DisposeAsync();
        }

        return await WorkerProcess.StartAsync(_launch, Owner, _logger, (process, crash) =>
        {
            if (!process.Stopped)
            {
                Interlocked.Increment(ref _crashes);
            }

            _crashed(process, crash);
        });
    }

    public async ValueTask DisposeAsync()
    {
        Task<WorkerProcess>? current;
        lock (_gate)
        {
            _disposed = true;
            current = _current;
        }

        if (current is null)
        {
            return;
        }

        try
        {
            await (await current).DisposeAsync();
        }
        catch (Exception ex) when (ex is DomainException or InvalidOperationException)
        {
            // It never started: nothing to stop.
        }
    }
}
