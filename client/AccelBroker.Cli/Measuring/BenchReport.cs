using System.Text.Json.Serialization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;
using AccelBroker.Client;

namespace AccelBroker.Cli.Measuring;

/// <summary>Everything <c>accel bench</c> reports; serialized as is (snake_case) for <c>--json</c>.</summary>
/// <param name="Runs">Completed measured calls, failed ones included.</param>
/// <param name="LatencyMs">Of the successful calls; <see langword="null"/> when none succeeded.</param>
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
    string Mode,
    int? Concurrency,
    double? Rate,
    string Stop,
    string StoppedBecause,
    int Succeeded,
    IReadOnlyDictionary<string, int> FailuresByStatus,
    int NotIssued,
    string PercentileDefinition,
    LatencySummary? LatencyMs,
    BenchReport.ThroughputInfo Throughput,
    AgentSplit AgentSplitMs,
    UsedPrices Prices,
    [property: JsonPropertyName("cost_per_100k")] double? CostPer100k,
    double? CostPerMillionItems,
    BenchReport.CostLabels CostDefinitions,
    BenchReport.Intervals ConfidenceIntervals,
    string WindowRule,
    bool Stable,
    IReadOnlyList<BenchReport.WindowInfo> Windows,
    BenchReport.CpuInfo GeneratorCpu,
    IReadOnlyList<string> Warnings,
    AccuracyResult? Accuracy)
{
    public sealed record InputInfo(string Dtype, IReadOnlyList<long> Shape);

    public sealed record ThroughputInfo(double RequestsPerSecond, double ItemsPerSecond, double InferencesPerSecond, double MeasuredSeconds);

    public sealed record CostLabels(
        [property: JsonPropertyName("cost_per_100k")] string CostPer100k,
        string CostPerMillionItems);

    /// <summary>Each interval is <see langword="null"/> when not available (fewer than two windows).</summary>
    public sealed record Intervals(
        string Method,
        int Windows,
        ConfidenceInterval? MeanLatencyMs,
        ConfidenceInterval? RequestsPerSecond,
        ConfidenceInterval? InferencesPerSecond,
        [property: JsonPropertyName("cost_per_100k")] ConfidenceInterval? CostPer100k,
        ConfidenceInterval? CostPerMillionItems);

    public sealed record WindowInfo(int Index, double StartS, double EndS, int Requests, int Succeeded, double RequestsPerSecond, double MeanLatencyMs, double P95Ms);

    public sealed record CpuInfo(double ProcessCores, double ProcessShare, double? MachineBusyShare, int Cores, bool Saturated, string Rule);

    public static BenchReport Create(string model, AcceleratorInfo accelerator, string precision, IReadOnlyList<Tensor> inputs, int warmup, SessionLoad.Result measured, UsedPrices prices, AccuracyResult? accuracy)
    {
        long batch = BenchInputOptions.BatchOf(inputs);
        LoadResult load = measured.Load;
        var statistics = LoadStatistics.Of(load);
        var costs = LoadCosts.Of(statistics, batch, prices.PricePerHour);
        string? warning = load.Cpu.Warning;
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
            statistics.Requests,
            warmup,
            load.Mode.Describe(),
            load.Mode is LoadMode.Closed closed ? closed.Callers : null,
            load.Mode is LoadMode.Open open ? open.RatePerSecond : null,
            load.Stop.Describe(),
            load.StoppedBecause,
            statistics.Succeeded,
            statistics.FailuresByStatus,
            statistics.NotIssued,
            "nearest-rank",
            statistics.LatencyMs,
            new ThroughputInfo(statistics.RequestsPerSecond, costs.ItemsPerSecond, costs.ItemsPerSecond, statistics.MeasuredSeconds),
            measured.Split,
            prices,
            costs.CostPer100k,
            costs.CostPerMillionItems,
            new CostLabels(LoadCosts.Per100kLabel, LoadCosts.PerMillionLabel),
            new Intervals(
                ConfidenceInterval.Method,
                statistics.Windows.Count,
                statistics.MeanLatencyCi,
                statistics.RequestsPerSecondCi,
                costs.ItemsPerSecondCi,
                costs.CostPer100kCi,
                costs.CostPerMillionItemsCi),
            load.Stop.Windows.Describe(),
            statistics.Stable,
            statistics.Windows.Select(w => new WindowInfo(w.Index, w.Start.TotalSeconds, w.End.TotalSeconds, w.Requests, w.Succeeded, w.RequestsPerSecond, w.MeanLatencyMs, w.P95Ms)).ToArray(),
            new CpuInfo(load.Cpu.ProcessCores, load.Cpu.ProcessShare, load.Cpu.MachineBusyShare, load.Cpu.Cores, load.Cpu.Saturated, Load.GeneratorCpu.Rule),
            warning is null ? [] : [warning],
            accuracy);
    }
}
