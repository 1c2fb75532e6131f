namespace AccelBroker.Cli.Load;

/// <summary>perf_analyzer's stability test over the last windows of a run.</summary>
internal static class Stability
{
    /// <summary>
    /// Whether the last <see cref="WindowRule.StableCount"/> windows each lie within <see cref="WindowRule.Tolerance"/>
    /// of their mean, on throughput and on P95 latency. Fewer windows than that are not stable.
    /// </summary>
    public static bool IsStable(IReadOnlyList<LoadWindow> windows, WindowRule rule)
    {
        if (windows.Count < rule.StableCount || rule.StableCount < 1)
        {
            return false;
        }

        LoadWindow[] last = [.. windows.Skip(windows.Count - rule.StableCount)];
        return Agree(last.Select(w => w.RequestsPerSecond).ToArray(), rule.Tolerance)
            && Agree(last.Select(w => w.P95Ms).ToArray(), rule.Tolerance);
    }

    private static bool Agree(double[] values, double tolerance)
    {
        double mean = values.Average();
        return mean > 0 && values.All(v => Math.Abs(v - mean) <= tolerance * mean);
    }
}
