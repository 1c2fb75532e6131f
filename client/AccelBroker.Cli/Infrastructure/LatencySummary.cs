using AccelBroker.Client;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>
/// Latency distribution of a run of samples. Percentiles use the nearest-rank definition: the smallest
/// sample such that at least p % of samples are less than or equal to it (no interpolation).
/// </summary>
internal sealed record LatencySummary(int Count, double MeanMs, double P50Ms, double P90Ms, double P95Ms, double P99Ms, double MinMs, double MaxMs)
{
    public static LatencySummary Of(IReadOnlyList<double> samplesMs)
    {
        if (samplesMs.Count == 0)
        {
            throw new ArgumentException("no samples", nameof(samplesMs));
        }

        double[] sorted = [.. samplesMs.Order()];
        return new LatencySummary(sorted.Length, sorted.Average(), NearestRank.Percentile(sorted, 50), NearestRank.Percentile(sorted, 90), NearestRank.Percentile(sorted, 95), NearestRank.Percentile(sorted, 99), sorted[0], sorted[^1]);
    }
}
