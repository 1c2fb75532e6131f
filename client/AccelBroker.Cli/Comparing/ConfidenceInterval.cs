namespace AccelBroker.Cli.Comparing;

/// <summary>
/// A 95 % confidence interval by batch means: the measured runs, in the order they completed, are cut into
/// <see cref="Batches"/> consecutive batches of (nearly) equal size, and the interval is the overall estimate
/// ± t(0.975, k − 1) × s / √k over the k batch estimates. Batching absorbs the correlation between neighbouring
/// runs that a per-run standard error would ignore; the t-distribution accounts for estimating s from few batches.
/// </summary>
internal sealed record ConfidenceInterval(double Low, double High)
{
    public const int Batches = 10;

    public const string Method =
        "95 % confidence intervals by batch means: the measured runs, in completion order, in 10 consecutive batches; " +
        "estimate ± t(0.975, k-1) x s / sqrt(k) over the k batch estimates (Student's t)";

    // t(0.975, df) for df = 1..9: at most Batches - 1 degrees of freedom are ever needed.
    private static readonly double[] T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262];

    public bool Overlaps(ConfidenceInterval other) => Low <= other.High && other.Low <= High;

    public ConfidenceInterval Scaled(double factor) => new(Low * factor, High * factor);

    /// <summary>Of the mean of <paramref name="samples"/> (in completion order); null below two samples.</summary>
    public static ConfidenceInterval? OfMean(IReadOnlyList<double> samples)
    {
        int k = Math.Min(Batches, samples.Count);
        if (k < 2)
        {
            return null;
        }

        var means = new double[k];
        for (int b = 0; b < k; b++)
        {
            (int start, int end) = Bounds(b, k, samples.Count);
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
    /// Of a rate (completions per second): each batch's rate is its completions over the time since the previous
    /// batch's last completion; centred on <paramref name="overallRate"/>. Null below two completions or when a
    /// batch took no measurable time.
    /// </summary>
    public static ConfidenceInterval? OfRate(IReadOnlyList<double> completedAtSeconds, double overallRate)
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
            (int start, int end) = Bounds(b, k, completedAtSeconds.Count);
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

    private static (int Start, int End) Bounds(int batch, int batches, int count) => (batch * count / batches, (batch + 1) * count / batches);

    private static ConfidenceInterval Around(double centre, double[] estimates)
    {
        int k = estimates.Length;
        double mean = estimates.Average();
        double variance = estimates.Sum(e => (e - mean) * (e - mean)) / (k - 1);
        double half = T975[k - 2] * Math.Sqrt(variance / k);
        return new ConfidenceInterval(centre - half, centre + half);
    }
}
