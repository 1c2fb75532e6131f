using AccelBroker.Cli.Load;
using AccelBroker.Cli.Measuring;

namespace AccelBroker.Cli.Sweeping;

/// <summary>Everything <c>accel sweep</c> reports; serialized as is (snake_case) for <c>--json</c>.</summary>
internal sealed record SweepReport(
    string Model,
    string Host,
    int Ordinal,
    string AcceleratorId,
    string SliceType,
    string Device,
    UsedPrices Prices,
    SweepGrid Grid,
    string Stop,
    string WindowRule,
    string ConfidenceIntervalMethod,
    string CostDefinition,
    string KneeDefinition,
    double? P95SloMs,
    int TotalCells,
    int MeasuredCells,
    bool Interrupted,
    IReadOnlyList<SweepReport.CellInfo> Cells,
    IReadOnlyList<SweepReport.KneeInfo> Knees,
    string? Best,
    string BestReason,
    IReadOnlyList<string> NotDistinguishableFromBest,
    IReadOnlyList<string> UnloadedModelIds,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<AccuracyResult>? Accuracy)
{
    public sealed record CellInfo(
        string Name,
        string Precision,
        int Batch,
        int Concurrency,
        int Requests,
        int Succeeded,
        IReadOnlyDictionary<string, int> FailuresByStatus,
        Infrastructure.LatencySummary? LatencyMs,
        double RequestsPerSecond,
        double InferencesPerSecond,
        ConfidenceInterval? InferencesPerSecondCi,
        double? CostPerMillion,
        ConfidenceInterval? CostPerMillionCi,
        int Windows,
        bool Stable,
        bool? MeetsSlo,
        string? NotMeasuredReason);

    public sealed record KneeInfo(string Precision, int Batch, string Cell, double InferencesPerSecond, string BestCell, double BestInferencesPerSecond, IReadOnlyList<int> NotDistinguishableBatches);

    public static CellInfo Cell(SweepCell c, double? slo) => new(
        c.Name, c.Precision, c.Batch, c.Concurrency, c.Requests, c.Succeeded, c.FailuresByStatus, c.LatencyMs, c.RequestsPerSecond, c.InferencesPerSecond,
        c.InferencesPerSecondCi, c.CostPerMillion, c.CostPerMillionCi, c.Windows, c.Stable,
        c.Measured && slo is { } s ? c.LatencyMs!.P95Ms <= s : null, c.NotMeasuredReason);

    public static KneeInfo Knee(SweepAnalysis.Knee k) =>
        new(k.Precision, k.Batch, k.Cell.Name, k.Cell.InferencesPerSecond, k.BestCell.Name, k.BestCell.InferencesPerSecond, k.NotDistinguishableBatches);
}
