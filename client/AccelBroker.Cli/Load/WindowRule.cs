namespace AccelBroker.Cli.Load;

/// <summary>
/// perf_analyzer's stability windows: a window lasts <paramref name="Length"/> and is extended until it holds
/// <paramref name="MinRequests"/> completed calls; a run is stable when each of the last <paramref name="StableCount"/>
/// windows is within <paramref name="Tolerance"/> of their mean on both throughput and P95 latency.
/// </summary>
internal sealed record WindowRule(TimeSpan Length, int MinRequests = 50, int StableCount = 3, double Tolerance = 0.10)
{
    public static readonly TimeSpan DefaultLength = TimeSpan.FromSeconds(5);

    public string Describe() => FormattableString.Invariant(
        $"windows of {Length.TotalSeconds:0.###} s extended to at least {MinRequests} requests; stable when the last {StableCount} agree within {Tolerance * 100:0.#} % on throughput and P95");
}
