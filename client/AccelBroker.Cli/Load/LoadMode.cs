namespace AccelBroker.Cli.Load;

/// <summary>How a <see cref="LoadEngine"/> issues calls: a closed loop of callers, or an open loop of timed arrivals.</summary>
internal abstract record LoadMode
{
    private LoadMode()
    {
    }

    /// <summary>"closed loop, 4 callers" or "open loop, Poisson 100/s (at most 64 outstanding)", for reports.</summary>
    public abstract string Describe();

    /// <summary>
    /// Closed loop: <paramref name="Callers"/> callers, each with one call in flight, the next issued when the last one
    /// completes (seed 000's client threads; perf_analyzer's concurrency mode).
    /// </summary>
    public sealed record Closed(int Callers) : LoadMode
    {
        public override string Describe() => Callers == 1 ? "closed loop, 1 caller" : $"closed loop, {Callers} callers";
    }

    /// <summary>
    /// Open loop: Poisson arrivals at <paramref name="RatePerSecond"/>, scheduled whatever the calls in flight do
    /// (perf_analyzer's request-rate mode). At most <paramref name="MaxOutstanding"/> calls are in flight; an arrival
    /// past that is counted as not issued rather than delayed, so the rate offered stays the rate asked for.
    /// </summary>
    public sealed record Open(double RatePerSecond, int MaxOutstanding, int Seed) : LoadMode
    {
        public override string Describe() =>
            FormattableString.Invariant($"open loop, Poisson {RatePerSecond:0.###}/s (at most {MaxOutstanding} outstanding)");
    }
}
