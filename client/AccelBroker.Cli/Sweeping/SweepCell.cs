using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;

namespace AccelBroker.Cli.Sweeping;

/// <summary>
/// One cell of <c>accel sweep</c>'s grid (precision × batch × concurrency): throughput in inferences per second
/// (requests × batch) with its interval, latency percentiles, cost per million at that throughput, failures by status.
/// </summary>
/// <param name="LatencyMs">Of the successful calls; <see langword="null"/> when none succeeded.</param>
/// <param name="InferencesPerSecondCi">Over the cell's windows; <see langword="null"/> with fewer than two.</param>
/// <param name="NotMeasuredReason">Why the cell has no figures (the model did not load at its precision), else <see langword="null"/>.</param>
internal sealed record SweepCell(
    string Precision,
    int Batch,
    int Concurrency,
    int Requests,
    int Succeeded,
    IReadOnlyDictionary<string, int> FailuresByStatus,
    LatencySummary? LatencyMs,
    double RequestsPerSecond,
    double InferencesPerSecond,
    ConfidenceInterval? InferencesPerSecondCi,
    double? CostPerMillion,
    ConfidenceInterval? CostPerMillionCi,
    int Windows,
    bool Stable,
    string? NotMeasuredReason = null)
{
    public bool Measured => NotMeasuredReason is null && LatencyMs is not null;

    public string Name => $"{Precision} batch {Batch} x {Concurrency}";

    /// <summary>Whether the two cells' throughput intervals overlap: neither can be called faster. Without intervals, only equal throughputs overlap.</summary>
    public bool NotDistinguishableFrom(SweepCell other) =>
        InferencesPerSecondCi is { } mine && other.InferencesPerSecondCi is { } theirs
            ? mine.Overlaps(theirs)
            : InferencesPerSecond.Equals(other.InferencesPerSecond);

    public static SweepCell NotMeasured(string precision, int batch, int concurrency, string reason) =>
        new(precision, batch, concurrency, 0, 0, new Dictionary<string, int>(), null, 0, 0, null, null, null, 0, false, reason);
}
