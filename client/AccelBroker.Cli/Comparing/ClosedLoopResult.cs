using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;

namespace AccelBroker.Cli.Comparing;

/// <summary>What a closed loop measured: each run's latency and completion time (seconds since the clock started), in completion order.</summary>
internal sealed record ClosedLoopResult(int Callers, IReadOnlyList<double> LatenciesMs, IReadOnlyList<double> CompletedAtSeconds, double Seconds)
{
    public LatencySummary Summary { get; } = LatencySummary.Of(LatenciesMs);

    public double RequestsPerSecond => Seconds > 0 ? LatenciesMs.Count / Seconds : 0;

    public ConfidenceInterval? MeanLatencyCi => ConfidenceInterval.OfBatchMeans(LatenciesMs);

    public ConfidenceInterval? RequestsPerSecondCi => ConfidenceInterval.OfBatchRates(CompletedAtSeconds, RequestsPerSecond);
}
