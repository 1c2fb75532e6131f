using System.Diagnostics.Metrics;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Slices;

namespace AccelBroker.Agent.Internal;

/// <summary>
/// The agent's meter: the slices it holds, the models loaded on them and their use of the execution slots,
/// read from the slice registry and the compute scheduler when collected (no polling). Per-slice series carry
/// the slice id as tag <c>slice</c>, and only slices still held have them.
/// </summary>
internal sealed class AgentMetrics
{
    public const string MeterName = "AccelBroker.Agent";

    private readonly SliceRegistry _slices;
    private readonly ComputeScheduler _scheduler;
    private readonly SliceWorkers _workers;

    public AgentMetrics(IMeterFactory meterFactory, SliceRegistry slices, ComputeScheduler scheduler, SliceWorkers workers, QuarantinedModels quarantine)
    {
        _slices = slices;
        _scheduler = scheduler;
        _workers = workers;
        Meter meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("accelbroker.agent.slices", () => _slices.All.Count, unit: "{slice}",
            description: "Slices held by this agent.");
        meter.CreateObservableGauge("accelbroker.agent.slice.memory",
            () => PerSlice(slice => slice.Assignment.MemoryBytes), unit: "By",
            description: "Accelerator memory assigned to each slice.");
        meter.CreateObservableGauge("accelbroker.agent.slice.compute_share",
            () => PerSlice(slice => slice.Assignment.ComputeShare),
            description: "Share of the device assigned to each slice (1 = all of it).");
        meter.CreateObservableGauge("accelbroker.agent.models.loaded",
            () => PerSlice(slice => slice.ResidentCount), unit: "{model}",
            description: "Models loaded on each slice.");
        meter.CreateObservableGauge("accelbroker.agent.slice.memory.charged",
            () => PerSlice(slice => slice.ChargedBytes), unit: "By",
            description: "Accelerator memory charged to the models resident on each slice (never above its budget).");
        meter.CreateObservableGauge("accelbroker.agent.slice.models.known",
            () => PerSlice(slice => slice.ModelCount), unit: "{model}",
            description: "Models each slice serves, resident or evicted (evicted ones reload on their next run).");
        meter.CreateObservableCounter("accelbroker.agent.slice.model_loads",
            () => PerSlice(slice => slice.Loads), unit: "{load}",
            description: "Model loads on each slice since it was assigned, first loads and reloads after eviction.");
        meter.CreateObservableCounter("accelbroker.agent.slice.model_evictions",
            () => PerSlice(slice => slice.Evictions), unit: "{eviction}",
            description: "Models unloaded from each slice to make room for another.");
        meter.CreateObservableGauge("accelbroker.agent.execution_slots", () => _scheduler.Slots, unit: "{slot}",
            description: "Executions that may run at once on this agent.");
        meter.CreateObservableGauge("accelbroker.agent.slice.queue_depth",
            () => PerSlice(slice => _scheduler.UsageOf(slice.Id).Waiting), unit: "{run}",
            description: "Runs of each slice waiting for an execution slot.");
        // A counter, not a ratio: rate() over any window divided by the slots is the share of compute used.
        meter.CreateObservableCounter("accelbroker.agent.slice.compute_time",
            () => PerSlice(slice => _scheduler.UsageOf(slice.Id).SecondsUsed), unit: "s",
            description: "Execution time used by each slice's finished runs and model loads; its rate over execution_slots is the share of compute used.");
        meter.CreateObservableGauge("accelbroker.agent.slice.worker.resident_memory",
            () => PerWorker(worker => worker.Current?.ResidentBytes()), unit: "By",
            description: "Resident memory of each slice's worker process, which holds its models (libtorch's own pages included).");
        meter.CreateObservableCounter("accelbroker.agent.slice.worker.crashes",
            () => PerWorker(worker => (long?)worker.Crashes), unit: "{crash}",
            description: "Worker processes of each slice that ended unasked (a model crashed it, or it was killed); the next use starts another.");
        meter.CreateObservableCounter("accelbroker.agent.slice.worker.recycles",
            () => PerWorker(worker => (long?)worker.Recycles), unit: "{recycle}",
            description: "Worker processes of each slice replaced when the slice had no models left, because they held memory none accounted for.");
        meter.CreateObservableGauge("accelbroker.agent.models.quarantined", () => quarantine.Count, unit: "{model}",
            description: "Model bytes that crashed a loader and are refused from then on.");
    }

    private IEnumerable<Measurement<long>> PerWorker(Func<SliceWorker, long?> value)
    {
        foreach (AcceleratorSlice slice in _slices.All)
        {
            if (_workers.TryGet(slice.Id, out SliceWorker? worker) && value(worker) is { } measured)
            {
                yield return new Measurement<long>(measured, new KeyValuePair<string, object?>("slice", slice.Id));
            }
        }
    }

    private IEnumerable<Measurement<T>> PerSlice<T>(Func<AcceleratorSlice, T> value)
        where T : struct =>
        _slices.All.Select(slice => new Measurement<T>(value(slice), new KeyValuePair<string, object?>("slice", slice.Id)));
}
