using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli.Measuring;

/// <summary>
/// What one benchmark measured: each measured run's latency (warm-up runs excluded), the device that executed
/// as its executor reports it, and the agent-side split when runs went through an agent's Run path.
/// </summary>
internal sealed record Measurement(IReadOnlyList<double> LatenciesMs, string Device, AgentSplit? Split, double MeasuredSeconds)
{
    public LatencySummary Summary { get; } = LatencySummary.Of(LatenciesMs);

    public double RequestsPerSecond => LatenciesMs.Count / MeasuredSeconds;
}
