namespace AccelBroker.Cli.Load;

/// <summary>
/// A 95 % confidence interval of a mean: estimate ± t(0.975, k − 1) × s / √k over k estimates, Student's t because k
/// is small. The estimates are per-window values (the load engine's windows) or, for runs that have no windows
/// (compare's rows), batch means: the runs in completion order cut into <see cref="Batches"/> consecutive batches,
/// which absorbs the correlation between neighbouring runs that a per-run standard error would ignore. Needs two
/// estimates at least; with one there is no spread to estimate from.
/// </summary>
internal sealed record ConfidenceInterval(double Low, double High)
{
    public const string Method = "95 % confidence intervals: Student's t over the per-window values (mean ± t(0.975, windows - 1) × s / √windows); not available with fewer than 2 windows";

    public const int Batches = 10;

    public const string BatchMeansMethod =
        "95 % confidence intervals by batch means: the measured runs, in completion order, in 10 consecutive batches; " +
        "estimate ± t(0.975, k-1) x s / sqrt(k) over the k batch estimates (Student's t)";

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

        return Around(values.Average(), values);
    }

    /// <summary>By batch means, of the mean of <paramref name="samples"/> (in completion order); null below two samples.</summary>
    public static ConfidenceInterval? OfBatchMeans(IReadOnlyList<double> samples)
    {
        int k = Math.Min(Batches, samples.Count);
        if (k < 2)
        {
            return null;
        }

        var means = new double[k];
        for (int b = 0; b < k; b++)
        {
            (int start, int end) = BatchBounds(b, k, samples.Count);
            double sum = 0;
            for (int i = start; i < end; i++)
            {
                sum += samples[i];
            }

            means[b] = sum / (end - start);
        }

        return Around(samples.Average(), means);
    }

    /// <summary>
    /// By batches, of a rate (completions per second): each batch's rate is its completions over the time since the
    /// previous batch's last completion; centred on <paramref name="overallRate"/>. Null below two completions or when
    /// a batch took no measurable time.
    /// </summary>
    public static ConfidenceInterval? OfBatchRates(IReadOnlyList<double> completedAtSeconds, double overallRate)
    {
        int k = Math.Min(Batches, completedAtSeconds.Count);
        if (k < 2)
        {
            return null;
        }

        var rates = new double[k];
        double previous = 0;
        for (int b = 0; b < k; b++)
        {
            (int start, int end) = BatchBounds(b, k, completedAtSeconds.Count);
            double elapsed = completedAtSeconds[end - 1] - previous;
            if (!(elapsed > 0))
            {
                return null;
            }

            rates[b] = (end - start) / elapsed;
            previous = completedAtSeconds[end - 1];
        }

        return Around(overallRate, rates);
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

    private static (int Start, int End) BatchBounds(int batch, int batches, int count) => (batch * count / batches, (batch + 1) * count / batches);

    private static ConfidenceInterval Around(double centre, IReadOnlyList<double> estimates)
    {
        int k = estimates.Count;
        double mean = estimates.Average();
        double variance = estimates.Sum(e => (e - mean) * (e - mean)) / (k - 1);
        double half = CriticalValue(k - 1) * Math.Sqrt(variance / k);
        return new ConfidenceInterval(centre - half, centre + half);
    }
}
