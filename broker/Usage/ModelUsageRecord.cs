using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Usage;

/// <summary>
/// A <see cref="ModelUsage"/> as saved; an absent histogram stays absent (null, or left out). The overload counters
/// came later: a record saved before them reads as zero (a field, not a column, so no schema migration).
/// </summary>
internal sealed record ModelUsageRecord(
    string ModelId,
    long Inferences,
    long Failures,
    HistogramRecord? Total = null,
    HistogramRecord? Queue = null,
    HistogramRecord? Decode = null,
    HistogramRecord? Compute = null,
    HistogramRecord? Encode = null,
    long RejectedQueueFull = 0,
    long DroppedDeadline = 0)
{
    public static ModelUsageRecord From(ModelUsage usage) => new(
        usage.ModelId,
        usage.Inferences,
        usage.Failures,
        HistogramRecord.From(usage.Total),
        HistogramRecord.From(usage.Queue),
        HistogramRecord.From(usage.Decode),
        HistogramRecord.From(usage.Compute),
        HistogramRecord.From(usage.Encode),
        usage.RejectedQueueFull,
        usage.DroppedDeadline);

    public ModelUsage ToProto() => new()
    {
        ModelId = ModelId,
        Inferences = Inferences,
        Failures = Failures,
        Total = Total?.ToProto(),
        Queue = Queue?.ToProto(),
        Decode = Decode?.ToProto(),
        Compute = Compute?.ToProto(),
        Encode = Encode?.ToProto(),
        RejectedQueueFull = RejectedQueueFull,
        DroppedDeadline = DroppedDeadline,
    };
}
