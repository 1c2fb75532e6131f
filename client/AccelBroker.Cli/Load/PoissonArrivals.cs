namespace AccelBroker.Cli.Load;

/// <summary>
/// Arrival times of a Poisson process at a rate: exponential gaps −ln(1 − U) / rate from a seeded
/// <see cref="Random"/>, so a run's schedule can be reproduced.
/// </summary>
internal sealed class PoissonArrivals(double ratePerSecond, Random random)
{
    private TimeSpan _next = TimeSpan.Zero;

    public PoissonArrivals(double ratePerSecond, int seed)
        : this(ratePerSecond, new Random(seed))
    {
    }

    public double RatePerSecond { get; } = ratePerSecond > 0 && double.IsFinite(ratePerSecond)
        ? ratePerSecond
        : throw new ArgumentOutOfRangeException(nameof(ratePerSecond), "the rate must be a positive number");

    /// <summary>The next gap between arrivals.</summary>
    public TimeSpan NextGap() => TimeSpan.FromSeconds(-Math.Log(1 - random.NextDouble()) / RatePerSecond);

    /// <summary>The next arrival, from the start of the run.</summary>
    public TimeSpan Next() => _next += NextGap();
}
