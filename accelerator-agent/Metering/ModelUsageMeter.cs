using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Agent.Metering;

/// <summary>
/// Cumulative figures of one model on one slice. One lock over all of them, so a heartbeat's snapshot is
/// consistent: every histogram holds exactly <c>inferences</c> values.
/// </summary>
internal sealed class ModelUsageMeter(string modelId)
{
    private readonly Lock _lock = new();
    private readonly LatencyHistogram _total = new();
    private readonly LatencyHistogram _queue = new();
    private readonly LatencyHistogram _decode = new();
    private readonly LatencyHistogram _compute = new();
    private readonly LatencyHistogram _encode = new();
    private long _failures;
    private long _rejectedQueueFull;
    private long _droppedDeadline;

    public string ModelId { get; } = modelId;

    public void Succeeded(RunTiming timing)
    {
        lock (_lock)
        {
            _total.Record(Total(timing));
            _queue.Record(timing.QueueSeconds);
            _decode.Record(timing.DecodeSeconds);
            _compute.Record(timing.ComputeSeconds);
            _encode.Record(timing.EncodeSeconds);
        }
    }

    public void Failed()
    {
        lock (_lock)
        {
            _failures++;
        }
    }

    /// <summary>A run refused at once: its slice's queue was full.</summary>
    public void RejectedQueueFull()
    {
        lock (_lock)
        {
            _rejectedQueueFull++;
        }
    }

    /// <summary>A run dropped before it executed, its deadline past (counted as failed apart from this).</summary>
    public void DroppedDeadline()
    {
        lock (_lock)
        {
            _droppedDeadline++;
        }
    }

    public ModelUsage ToProto()
    {
        lock (_lock)
        {
            return new ModelUsage
            {
                ModelId = ModelId,
                Inferences = _total.Count,
                Failures = _failures,
                Total = _total.ToProto(),
                Queue = _queue.ToProto(),
                Decode = _decode.ToProto(),
                Compute = _compute.ToProto(),
                Encode = _encode.ToProto(),
                RejectedQueueFull = _rejectedQueueFull,
                DroppedDeadline = _droppedDeadline,
            };
        }
    }

    public static double Total(RunTiming timing) =>
        timing.QueueSeconds + timing.DecodeSeconds + timing.ComputeSeconds + timing.EncodeSeconds;
}
