using AccelBroker.Cli.Load;
using AccelBroker.Client.Pricing;

namespace AccelBroker.Cli.Measuring;

/// <summary>
/// Both costs of a load, each with its 95 % interval: seed 002's per 100k inferences from the mean latency (linear in
/// it, so its interval is the latency's scaled) and seed 000's per million items at the measured throughput (it falls
/// as throughput rises, so its interval is the throughput's bounds mapped and swapped).
/// </summary>
internal sealed record LoadCosts(
    double ItemsPerSecond,
    ConfidenceInterval? ItemsPerSecondCi,
    double? CostPer100k,
    ConfidenceInterval? CostPer100kCi,
    double? CostPerMillionItems,
    ConfidenceInterval? CostPerMillionItemsCi)
{
    public const string Per100kLabel = "seed 002: price per hour / 3600 x mean latency x 100,000";
    public const string PerMillionLabel = "seed 000: price per hour / (inferences per second x 3600) x 1,000,000, at the measured throughput";

    public static LoadCosts Of(LoadStatistics statistics, long batch, double pricePerHour)
    {
        double items = statistics.RequestsPerSecond * batch;
        ConfidenceInterval? itemsCi = statistics.RequestsPerSecondCi?.Scale(batch);
        double perLatencySecond = CostModel.PerHundredThousand(pricePerHour, 1);
        return new LoadCosts(
            items,
            itemsCi,
            statistics.LatencyMs is { } latency ? CostModel.PerHundredThousand(pricePerHour, latency.MeanMs / 1000) : null,
            statistics.MeanLatencyCi?.Scale(perLatencySecond / 1000),
            items > 0 ? CostModel.PerMillionItems(pricePerHour, items) : null,
            itemsCi?.MapDecreasing(x => CostModel.PerMillionItems(pricePerHour, x)));
    }
}
