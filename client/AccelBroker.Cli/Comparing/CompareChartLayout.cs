namespace AccelBroker.Cli.Comparing;

/// <summary>
/// The chart's decisions as pure functions of the rows: the latency axis' range, whether the SLO line is on it,
/// which kinds the legend lists, and what is written as a note instead of drawn.
/// </summary>
internal static class CompareChartLayout
{
    /// <summary>An SLO above this multiple of the highest P90 would squash every point to the axis' bottom: it becomes a note.</summary>
    public const double SloOnAxisFactor = 1.5;

    /// <summary>Room above the highest point drawn.</summary>
    public const double Headroom = 1.15;

    /// <summary>The right axis from 0 to <paramref name="Max"/>; the SLO line is drawn only when <paramref name="SloOnAxis"/>.</summary>
    public sealed record LatencyAxis(double Max, bool SloOnAxis);

    public static LatencyAxis FitLatency(IReadOnlyList<double> p90Ms, double sloMs)
    {
        double highest = p90Ms.Count == 0 ? 0 : p90Ms.Max();
        if (highest <= 0)
        {
            return new LatencyAxis(sloMs * Headroom, true);
        }

        bool sloOnAxis = sloMs <= highest * SloOnAxisFactor;
        return new LatencyAxis(Math.Max(highest, sloOnAxis ? sloMs : 0) * Headroom, sloOnAxis);
    }

    /// <summary>Kinds of the rows drawn (measured ones), in the chart's fixed order.</summary>
    public static IReadOnlyList<string> LegendKinds(IEnumerable<CompareRow> rows)
    {
        HashSet<string> present = [.. rows.Where(r => r.Measured).Select(r => r.Kind)];
        return [.. ((string[])[CompareRow.HostAccelerator, CompareRow.StandaloneGpu, CompareRow.StandaloneCpu]).Where(present.Contains)];
    }

    /// <summary>Lines written under the bars: the SLO when it is off the axis, and every row that is not drawn and why.</summary>
    public static IReadOnlyList<string> Notes(IEnumerable<CompareRow> rows, LatencyAxis axis, string sloText)
    {
        var notes = new List<string>();
        if (!axis.SloOnAxis)
        {
            notes.Add($"SLO {sloText}: above every P90, not drawn to scale");
        }

        notes.AddRange(rows.Where(r => !r.Measured).Select(r => $"{r.Instance}: {r.NotMeasuredReason}"));
        return notes;
    }
}
