using System.Diagnostics;
using System.Diagnostics.Metrics;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Slices;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Metering;

/// <summary>
/// Records each run on a known slice and model twice: into the slice's cumulative usage (sent to the broker
/// with every heartbeat) and into the <c>AccelBroker.Agent</c> meter (exported to Prometheus).
/// </summary>
internal sealed class InferenceMetering
{
    private readonly Counter<long> _inferences;
    private readonly Histogram<double> _duration;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _rejectedQueueFull;
    private readonly Counter<long> _droppedDeadline;

    public InferenceMetering(IMeterFactory meterFactory)
    {
        Meter meter = meterFactory.Create(AgentMetrics.MeterName);
        _inferences = meter.CreateCounter<long>(
            "accelbroker.agent.inferences", unit: "{inference}", description: "Runs on a slice, by outcome (ok or error).");
        _duration = meter.CreateHistogram<double>(
            "accelbroker.agent.inference.duration", unit: "s", description: "Time of a completed run on the agent, by phase (total, queue, decode, compute, encode).");
        _batchSize = meter.CreateHistogram<int>(
            "accelbroker.agent.batch.size", unit: "{item}", description: "Items per execution of models loaded with dynamic batching.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096] });
        _rejectedQueueFull = meter.CreateCounter<long>(
            "accelbroker.agent.slice.rejected_queue_full", unit: "{run}", description: "Runs of each slice refused at once because its queue was full (MaxQueuePerSlice).");
        _droppedDeadline = meter.CreateCounter<long>(
            "accelbroker.agent.slice.dropped_deadline", unit: "{run}", description: "Runs of each slice dropped before they executed because their deadline passed while they waited.");
    }

    /// <summary>Counts a run refused because its slice's queue was full.</summary>
    public void RejectedQueueFull(AcceleratorSlice slice, string modelId)
    {
        slice.Usage.Model(modelId).RejectedQueueFull();
        if (_rejectedQueueFull.Enabled)
        {
            _rejectedQueueFull.Add(1, new KeyValuePair<string, object?>("slice", slice.Id));
        }
    }

    /// <summary>Counts a run dropped unexecuted past its deadline; returns false so it can sit in an exception filter.</summary>
    public bool DroppedDeadline(AcceleratorSlice slice, string modelId)
    {
        slice.Usage.Model(modelId).DroppedDeadline();
        if (_droppedDeadline.Enabled)
        {
            _droppedDeadline.Add(1, new KeyValuePair<string, object?>("slice", slice.Id));
        }

        return false;
    }

    public void Succeeded(AcceleratorSlice slice, string modelId, RunTiming timing)
    {
        slice.Usage.Model(modelId).Succeeded(timing);
        if (_inferences.Enabled)
        {
            _inferences.Add(1, Tags(slice.Id, modelId, "outcome", "ok"));
        }

        if (_duration.Enabled)
        {
            _duration.Record(ModelUsageMeter.Total(timing), Tags(slice.Id, modelId, "phase", "total"));
            _duration.Record(timing.QueueSeconds, Tags(slice.Id, modelId, "phase", "queue"));
            _duration.Record(timing.DecodeSeconds, Tags(slice.Id, modelId, "phase", "decode"));
            _duration.Record(timing.ComputeSeconds, Tags(slice.Id, modelId, "phase", "compute"));
            _duration.Record(timing.EncodeSeconds, Tags(slice.Id, modelId, "phase", "encode"));
        }
    }

    /// <summary>Records the items one execution of a batching model took (1 when a request ran alone).</summary>
    public void BatchExecuted(AcceleratorSlice slice, string modelId, int items)
    {
        if (_batchSize.Enabled)
        {
            _batchSize.Record(items, new TagList { { "slice", slice.Id }, { "model", modelId } });
        }
    }

    /// <summary>Counts a failed run; returns false so it can sit in an exception filter.</summary>
    public bool Failed(AcceleratorSlice slice, string modelId)
    {
        slice.Usage.Model(modelId).Failed();
        if (_inferences.Enabled)
        {
            _inferences.Add(1, Tags(slice.Id, modelId, "outcome", "error"));
        }

        return false;
    }

    private static TagList Tags(string sliceId, string modelId, string key, string value) =>
        new() { { "slice", sliceId }, { "model", modelId }, { key, value } };
}
