using System.Text.Json.Serialization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Client.Pricing;

namespace AccelBroker.Cli.Measuring;

/// <summary>Everything <c>accel bench</c> reports; serialized as is (snake_case) for <c>--json</c>.</summary>
internal sealed record BenchReport(
    string Model,
    string Host,
    int Ordinal,
    string AcceleratorId,
    string SliceType,
    string Device,
    string Precision,
    IReadOnlyList<BenchReport.InputInfo> Inputs,
    long Batch,
    int Runs,
    int Warmup,
    string PercentileDefinition,
    LatencySummary LatencyMs,
    BenchReport.ThroughputInfo Throughput,
    AgentSplit AgentSplitMs,
    UsedPrices Prices,
    [property: JsonPropertyName("cost_per_100k")] double CostPer100k,
    double CostPerMillionItems)
{
    public sealed record InputInfo(string Dtype, IReadOnlyList<long> Shape);

    public sealed record ThroughputInfo(double RequestsPerSecond, double ItemsPerSecond);

    public static BenchReport Create(string model, AcceleratorInfo accelerator, string precision, IReadOnlyList<Tensor> inputs, int runs, int warmup, Measurement measured, UsedPrices prices)
    {
        long batch = BenchInputOptions.BatchOf(inputs);
        double requests = measured.RequestsPerSecond;
        double items = requests * batch;
        return new BenchReport(
            model,
            accelerator.Host,
            accelerator.Ordinal,
            accelerator.Id,
            accelerator.SliceType,
            measured.Device,
            precision,
            inputs.Select(t => new InputInfo(t.DataType.ToName(), t.Shape)).ToArray(),
            batch,
            runs,
            warmup,
            "nearest-rank",
            measured.Summary,
            new ThroughputInfo(requests, items),
            measured.Split ?? new AgentSplit(0, 0, 0, 0),
            prices,
            CostModel.PerHundredThousand(prices.PricePerHour, measured.Summary.MeanMs / 1000),
            CostModel.PerMillionItems(prices.PricePerHour, items));
    }
}
