using AccelBroker.Client;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Timings in milliseconds. Percentiles use the nearest-rank definition: the smallest sample with at
/// least p % of the samples less than or equal to it (no interpolation).
/// </summary>
internal sealed class Samples
{
    public const string PercentileDefinition = NearestRank.Definition;

    private readonly double[] _sorted;

    public Samples(IEnumerable<double> milliseconds)
    {
        _sorted = milliseconds.Order().ToArray();
        if (_sorted.Length == 0)
        {
            throw new InvalidOperationException("no samples were taken");
        }
    }

    public int Count => _sorted.Length;

    public double Mean => _sorted.Average();

    public double Min => _sorted[0];

    public double Max => _sorted[^1];

    public double P50 => Percentile(50);

    public double P90 => Percentile(90);

    public double P99 => Percentile(99);

    public double Percentile(double p) => NearestRank.Percentile(_sorted, p);

    public string Describe() =>
        Fmt.Invariant($"n={Count} mean={Mean:0.000} p50={P50:0.000} p90={P90:0.000} p99={P99:0.000} min={Min:0.000} max={Max:0.000} ms");
}
