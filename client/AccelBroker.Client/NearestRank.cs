namespace AccelBroker.Client;

/// <summary>
/// Percentiles by the nearest-rank definition: the smallest sample such that at least p % of the samples
/// are less than or equal to it (no interpolation). One definition for every report: demo, bench, usage.
/// </summary>
public static class NearestRank
{
    /// <summary>The definition in one line, for reports that state how their percentiles were taken.</summary>
    public const string Definition = "percentiles are nearest-rank: the smallest sample with at least p% of samples <= it";

    /// <summary>Gets the nearest-rank percentile of samples sorted in ascending order.</summary>
    /// <param name="sorted">Samples in ascending order, at least one.</param>
    /// <param name="percent">In (0, 100].</param>
    /// <returns>The sample at rank ⌈percent / 100 × count⌉.</returns>
    /// <exception cref="ArgumentException"><paramref name="sorted"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percent"/> is not in (0, 100].</exception>
    public static double Percentile(ReadOnlySpan<double> sorted, double percent)
    {
        if (sorted.IsEmpty)
        {
            throw new ArgumentException("no samples", nameof(sorted));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        int rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }
}
