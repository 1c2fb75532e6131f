using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// What one stage measured. Requests are counted in the stage they completed in; <see cref="LatencyMs"/> is over the
/// successful ones (a refusal answers at once and would flatter the percentiles), null when none succeeded.
/// <see cref="Seconds"/> is the time the stage ran (less than planned when the test was interrupted in it).
/// </summary>
internal sealed record StageResult(
    int Stage,
    double EndsAtS,
    int TargetUsers,
    double SpawnRate,
    int UsersAtEnd,
    int MaxUsers,
    double Seconds,
    bool Complete,
    int Requests,
    int Successes,
    IReadOnlyDictionary<string, int> Failures,
    double RequestsPerSecond,
    LatencySummary? LatencyMs)
{
    public int FailureCount => Failures.Values.Sum();
}
