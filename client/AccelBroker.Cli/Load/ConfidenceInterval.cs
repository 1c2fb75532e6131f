namespace AccelBroker.Cli.Load;

/// <summary>
/// A 95 % confidence interval of a mean, from per-window values: mean ± t(0.975, k − 1) × s / √k over k windows,
/// Student's t because k is small. Needs two windows at least; with one there is no spread to estimate from.
/// </summary>
internal sealed record ConfidenceInterval(double Low, double High)
{
    public const string Method = "95 % confidence intervals: Student's t over the per-window values (mean ± t(0.975, windows - 1) × s / √windows); not available with fewer than 2 windows";

    // Two-sided 95 % critical values of Student's t for 1..30 degrees of freedom.
    private static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>The interval of the mean of <paramref name="values"/>; <see langword="null"/> with fewer than two.</summary>
    public static ConfidenceInterval? Over(IReadOnlyList<double> values)
    {
        int k = values.Count;
        if (k < 2)
        {
            return null;
        }

        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (k - 1);
        double half = CriticalValue(k - 1) * Math.Sqrt(variance / k);
        return new ConfidenceInterval(mean - half, mean + half);
    }

    /// <summary>t(0.975, df); past 30 the table's next lower entry (40, 60, 120, ∞), which errs wide.</summary>
    public static double CriticalValue(int degreesOfFreedom) => degreesOfFreedom switch
    {
        < 1 => throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom)),
        <= 30 => T975[degreesOfFreedom - 1],
        < 40 => 2.042,
        < 60 => 2.021,
        < 120 => 2.000,
        _ => 1.980,
    };

    public bool Overlaps(ConfidenceInterval other) => Low <= other.High && other.Low <= High;

    /// <summary>The interval of <c>f(x)</c> for a decreasing <paramref name="f"/>, such as a cost from a throughput; null where a bound is not positive.</summary>
    public ConfidenceInterval? MapDecreasing(Func<double, double> f) => Low > 0 ? new ConfidenceInterval(f(High), f(Low)) : null;

    public ConfidenceInterval Scale(double factor) => new(Low * factor, High * factor);
}
