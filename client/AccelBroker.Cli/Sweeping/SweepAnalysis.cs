using System.Globalization;

namespace AccelBroker.Cli.Sweeping;

/// <summary>
/// What a sweep's grid says: the knee at each precision (the smallest batch whose throughput, best over the
/// concurrencies, is within 5 % of the best at that precision), and the best cell whose P95 meets the SLO (the
/// highest throughput; every cell when no SLO is given). Cells whose throughput intervals overlap the chosen one are
/// listed as not distinguishable from it, so nobody picks a winner from noise.
/// </summary>
internal sealed record SweepAnalysis(IReadOnlyList<SweepAnalysis.Knee> Knees, SweepCell? Best, string BestReason, IReadOnlyList<SweepCell> NotDistinguishableFromBest)
{
    public const double KneeTolerance = 0.05;

    /// <param name="Cell">The knee batch's fastest cell.</param>
    /// <param name="BestCell">The precision's fastest cell.</param>
    /// <param name="NotDistinguishableBatches">Smaller batches than the knee whose fastest cell's interval overlaps the best's: the knee may lie among them.</param>
    public sealed record Knee(string Precision, int Batch, SweepCell Cell, SweepCell BestCell, IReadOnlyList<int> NotDistinguishableBatches);

    public static SweepAnalysis Of(IReadOnlyList<SweepCell> cells, double? p95SloMs)
    {
        SweepCell[] measured = [.. cells.Where(c => c.Measured)];
        var knees = new List<Knee>();
        foreach (IGrouping<string, SweepCell> precision in measured.GroupBy(c => c.Precision))
        {
            // The fastest cell of each batch: throughput as a function of batch, at the best concurrency.
            SweepCell[] perBatch = [.. precision.GroupBy(c => c.Batch).Select(Fastest).OrderBy(c => c.Batch)];
            SweepCell best = Fastest(perBatch);
            SweepCell knee = perBatch.First(c => c.InferencesPerSecond >= (1 - KneeTolerance) * best.InferencesPerSecond);
            int[] ties = [.. perBatch.Where(c => c.Batch < knee.Batch && c.NotDistinguishableFrom(best)).Select(c => c.Batch)];
            knees.Add(new Knee(precision.Key, knee.Batch, knee, best, ties));
        }

        SweepCell[] eligible = p95SloMs is { } slo ? [.. measured.Where(c => c.LatencyMs!.P95Ms <= slo)] : measured;
        if (eligible.Length == 0)
        {
            string reason = measured.Length == 0
                ? "no cell was measured"
                : string.Create(CultureInfo.InvariantCulture, $"no measured cell meets P95 <= {p95SloMs:0.###} ms");
            return new SweepAnalysis(knees, null, reason, []);
        }

        SweepCell chosen = Fastest(eligible);
        string why = p95SloMs is { } s
            ? string.Create(CultureInfo.InvariantCulture, $"highest throughput with P95 <= {s:0.###} ms")
            : "highest throughput (no --p95-slo given)";
        return new SweepAnalysis(knees, chosen, why, [.. eligible.Where(c => !ReferenceEquals(c, chosen) && c.NotDistinguishableFrom(chosen))]);
    }

    // Ties go to the cheaper configuration: smaller batch, then fewer callers.
    private static SweepCell Fastest(IEnumerable<SweepCell> cells) =>
        cells.OrderByDescending(c => c.InferencesPerSecond).ThenBy(c => c.Batch).ThenBy(c => c.Concurrency).First();
}
