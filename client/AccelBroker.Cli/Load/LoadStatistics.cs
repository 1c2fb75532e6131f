using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli.Load;

/// <summary>
/// A run's figures: latency percentiles and throughput of the successful calls, failures by gRPC status, and the
/// 95 % confidence intervals of mean latency and throughput over the stability windows.
/// </summary>
/// <param name="Requests">Completed calls, failed ones included.</param>
/// <param name="LatencyMs">Of the successful calls; <see langword="null"/> when none succeeded.</param>
/// <param name="RequestsPerSecond">Successful calls over <see cref="MeasuredSeconds"/>.</param>
/// <param name="MeanLatencyCi">Over the windows' mean latencies; <see langword="null"/> with fewer than two windows.</param>
/// <param name="RequestsPerSecondCi">Over the windows' throughputs; <see langword="null"/> with fewer than two windows.</param>
internal sealed record LoadStatistics(
    int Requests,
    int Succeeded,
    IReadOnlyDictionary<string, int> FailuresByStatus,
    int NotIssued,
    LatencySummary? LatencyMs,
    double RequestsPerSecond,
    double MeasuredSeconds,
    IReadOnlyList<LoadWindow> Windows,
    bool Stable,
    ConfidenceInterval? MeanLatencyCi,
    ConfidenceInterval? RequestsPerSecondCi)
{
    public static LoadStatistics Of(LoadResult result) => Of(result.Records, result.Windows, result.Stable, result.Measured, result.NotIssued);

    public static LoadStatistics Of(IReadOnlyList<RequestRecord> records, IReadOnlyList<LoadWindow> windows, bool stable, TimeSpan measured, int notIssued)
    {
        double[] succeeded = [.. records.Where(r => r.Succeeded).Select(r => r.LatencyMs)];
        var failures = records.Where(r => !r.Succeeded)
            .GroupBy(r => r.Status.ToString())
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count());
        double seconds = measured.TotalSeconds;
        LoadWindow[] measuredWindows = [.. windows.Where(w => w.Succeeded > 0)];
        return new LoadStatistics(
            records.Count,
            succeeded.Length,
            failures,
            notIssued,
            succeeded.Length > 0 ? LatencySummary.Of(succeeded) : null,
            seconds > 0 ? succeeded.Length / seconds : 0,
            seconds,
            windows,
            stable,
            ConfidenceInterval.Over([.. measuredWindows.Select(w => w.MeanLatencyMs)]),
            ConfidenceInterval.Over([.. windows.Select(w => w.RequestsPerSecond)]));
    }
}
