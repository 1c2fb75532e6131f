using System.Text.Json.Serialization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;
using AccelBroker.Cli.Measuring;
using AccelBroker.Client.Pricing;

namespace AccelBroker.Cli.Comparing;

/// <summary>
/// One combination of <c>accel compare</c>: what it is, its price, and what was measured for it here, or why
/// nothing was (never an estimate). Serialized as is (snake_case) for <c>--json</c>.
/// </summary>
internal sealed record CompareRow(
    string Instance,
    string Kind,
    string? HostType,
    string? SliceType,
    string? ExecutedOn,
    string? MeasuredHow,
    double PricePerHour,
    long Batch,
    int Concurrency,
    LatencySummary? LatencyMs,
    [property: JsonPropertyName("mean_latency_ci95_ms")] ConfidenceInterval? MeanLatencyCi95Ms,
    CompareThroughput? Throughput,
    [property: JsonPropertyName("cost_per_100k")] double? CostPer100k,
    [property: JsonPropertyName("cost_per_100k_ci95")] ConfidenceInterval? CostPer100kCi95,
    double? CostPerMillionItems,
    [property: JsonPropertyName("cost_per_million_items_ci95")] ConfidenceInterval? CostPerMillionItemsCi95,
    bool MeetsSlo,
    string? NotMeasuredReason,
    DoesNotFit? DoesNotFit,
    AccuracyResult? Accuracy)
{
    public const string HostAccelerator = "host+accelerator";
    public const string StandaloneGpu = "standalone gpu";
    public const string StandaloneCpu = "standalone cpu";

    /// <summary>The other rows, measured separately, whose ranking cost's 95 % interval overlaps this row's.</summary>
    public IReadOnlyList<string> NotDistinguishableFrom { get; init; } = [];

    /// <summary>Against <c>--baseline</c>; null without one.</summary>
    public BaselineRatio? VsBaseline { get; init; }

    /// <summary>Rows priced from one measurement share it (host types with one slice type): their noise is the same.</summary>
    [JsonIgnore]
    public int MeasurementId { get; init; }

    public bool Measured => LatencyMs is not null;

    public static string KindOf(string instanceKind) => instanceKind == "gpu" ? StandaloneGpu : StandaloneCpu;

    /// <summary>A measured row: latency, throughput (items = requests × batch), both costs and their intervals.</summary>
    public static CompareRow Of(string instance, string kind, string? hostType, string? slice, double price, long batch, ClosedLoopResult measured, string executedOn, string measuredHow, double sloMs, AccuracyResult? accuracy, int measurementId)
    {
        LatencySummary latency = measured.Summary;
        ConfidenceInterval? latencyCi = measured.MeanLatencyCi;
        double requests = measured.RequestsPerSecond;
        ConfidenceInterval? requestsCi = measured.RequestsPerSecondCi;
        ConfidenceInterval? itemsCi = requestsCi?.Scale(batch);
        double items = requests * batch;
        double perMillion = CostModel.PerMillionItems(price, items);
        // Cost falls as throughput rises: the interval's ends swap, and a lower end at zero has no finite cost.
        ConfidenceInterval? perMillionCi = itemsCi is { Low: > 0 } ci ? new ConfidenceInterval(CostModel.PerMillionItems(price, ci.High), CostModel.PerMillionItems(price, ci.Low)) : null;
        return new CompareRow(
            instance, kind, hostType, slice, executedOn, measuredHow, price, batch, measured.Callers,
            latency, latencyCi, new CompareThroughput(requests, items, itemsCi),
            CostModel.PerHundredThousand(price, latency.MeanMs / 1000), latencyCi?.Scale(CostModel.PerHundredThousand(price, 0.001)),
            perMillion, perMillionCi, latency.P90Ms < sloMs, null, null, accuracy)
        {
            MeasurementId = measurementId,
        };
    }

    /// <summary>A row nothing was measured for, with the reason (a does-not-fit row says what was needed and held).</summary>
    public static CompareRow NotMeasured(string instance, string kind, string? hostType, string? slice, double price, long batch, int concurrency, string reason, DoesNotFit? doesNotFit) =>
        new(instance, kind, hostType, slice, null, null, price, batch, concurrency, null, null, null, null, null, null, null, false, doesNotFit?.Text ?? reason, doesNotFit, null);
}

/// <summary>Requests and items (requests × batch) per second; the interval is of items per second.</summary>
internal sealed record CompareThroughput(double RequestsPerSecond, double ItemsPerSecond, [property: JsonPropertyName("items_per_second_ci95")] ConfidenceInterval? ItemsPerSecondCi95);

/// <summary>
/// A row against the <c>--baseline</c> row, as seed 000's "G5 over G4dn": throughput ratio (this ÷ baseline) and
/// cost benefit (baseline's ranking cost ÷ this row's: 2.0 is half the cost per inference).
/// </summary>
internal sealed record BaselineRatio(string Baseline, double? ThroughputRatio, double? CostBenefit);
