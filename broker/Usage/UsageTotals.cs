using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Broker.Usage;

/// <summary>Figures added up across models or clients. Only for reports that passed <see cref="UsageChecks"/>.</summary>
internal sealed class UsageTotals
{
    public long Inferences { get; private set; }

    public long Failures { get; private set; }

    public long RejectedQueueFull { get; private set; }

    public long DroppedDeadline { get; private set; }

    public LatencyHistogram Total { get; } = new();

    public LatencyHistogram Queue { get; } = new();

    public LatencyHistogram Decode { get; } = new();

    public LatencyHistogram Compute { get; } = new();

    public LatencyHistogram Encode { get; } = new();

    public void Add(ModelUsage usage)
    {
        Inferences += usage.Inferences;
        Failures += usage.Failures;
        RejectedQueueFull += usage.RejectedQueueFull;
        DroppedDeadline += usage.DroppedDeadline;
        Total.Merge(LatencyHistogram.FromProto(usage.Total));
        Queue.Merge(LatencyHistogram.FromProto(usage.Queue));
        Decode.Merge(LatencyHistogram.FromProto(usage.Decode));
        Compute.Merge(LatencyHistogram.FromProto(usage.Compute));
        Encode.Merge(LatencyHistogram.FromProto(usage.Encode));
    }

    public ModelUsage ToProto(string modelId) => new()
    {
        ModelId = modelId,
        Inferences = Inferences,
        Failures = Failures,
        RejectedQueueFull = RejectedQueueFull,
        DroppedDeadline = DroppedDeadline,
        Total = Total.ToProto(),
        Queue = Queue.ToProto(),
        Decode = Decode.ToProto(),
        Compute = Compute.ToProto(),
        Encode = Encode.ToProto(),
    };
}
