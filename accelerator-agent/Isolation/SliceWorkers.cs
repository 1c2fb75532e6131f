using System.Collections.Concurrent;
using AccelBroker.Agent.Devices;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// The owner of every worker process of this agent: one per slice, started when the slice is assigned and
/// stopped when it is released, plus short-lived ones for agent-local benchmarks. Tells subscribers when a
/// worker ends unasked, so the slice can forget the models it held.
/// </summary>
internal sealed class SliceWorkers : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, SliceWorker> _workers = new(StringComparer.Ordinal);
    private readonly WorkerLaunch _launch;
    private readonly ILogger<SliceWorkers> _logger;

    public SliceWorkers(AgentOptions options, ComputeDevice device, ILogger<SliceWorkers> logger)
    {
        _launch = LaunchFor(options, device);
        _logger = logger;
    }

    /// <summary>Told the owner and process of a worker that ended while it was in use, and how it ended.</summary>
    public event Action<string, WorkerProcess, string>? Crashed;

    private static WorkerLaunch LaunchFor(AgentOptions options, ComputeDevice device) => new(
        device.Label,
        options.IntraOpThreads is > 0 ? options.IntraOpThreads.Value : AgentHost.DefaultIntraOpThreads(options.ExecutionSlots, Environment.ProcessorCount),
        Math.Max(1, options.ExecutionSlots),
        options.HugePageAllocation,
        new WatchSlots(options.ReplyWatch, Environment.ProcessorCount));

    public SliceWorker For(string sliceId) =>
        _workers.GetOrAdd(sliceId, id => new SliceWorker(id, _launch, _logger, (process, crash) => Crashed?.Invoke(id, process, crash)));

    /// <summary>The slice's worker, if it has one (started or not).</summary>
    public bool TryGet(string sliceId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SliceWorker? worker) =>
        _workers.TryGetValue(sliceId, out worker);

    public void Prestart(string sliceId) => For(sliceId).Prestart();

    /// <summary>A worker for one caller only (an agent-local benchmark); dispose it when done.</summary>
    public Task<WorkerProcess> StartDedicatedAsync(string owner) => WorkerProcess.StartAsync(_launch, owner, _logger);

    public void Release(string sliceId)
    {
        if (_workers.TryRemove(sliceId, out SliceWorker? worker))
        {
            _ = worker.DisposeAsync().AsTask();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (SliceWorker worker in _workers.Values)
        {
            await worker.DisposeAsync();
        }

        _workers.Clear();
    }
}
