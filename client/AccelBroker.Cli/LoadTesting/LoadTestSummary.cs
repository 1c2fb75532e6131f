namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// Seed 003's figures from the stages. <see cref="MaxRequestsPerSecondWithoutError"/>: the highest stage requests/s
/// among stages with no failure (null when every stage failed). <see cref="MaxUsersBeforeFirstFailure"/>: the most
/// users that ran in the stages before the first stage with a failure, so a shape that holds 20, 40, 60 … users reads
/// as the seed's "max concurrent users" (all stages' most when none failed, 0 when the first failed);
/// <see cref="FirstFailure"/> says when and at how many users the first request failed. The same for the first stage
/// whose P95 was over <see cref="P95SloMs"/>, when given.
/// </summary>
internal sealed record LoadTestSummary(
    double? MaxRequestsPerSecondWithoutError,
    int? StageOfMaxRequestsPerSecond,
    int MaxUsersBeforeFirstFailure,
    int? FirstStageWithFailure,
    FirstFailure? FirstFailure,
    double? P95SloMs,
    int? MaxUsersBeforeP95OverSlo,
    int? FirstStageOverSlo)
{
    public static LoadTestSummary Of(IReadOnlyList<StageResult> stages, FirstFailure? firstFailure, double? p95SloMs)
    {
        StageResult? best = stages.Where(s => s.FailureCount == 0 && s.Requests > 0).MaxBy(s => s.RequestsPerSecond);
        StageResult? failed = stages.FirstOrDefault(s => s.FailureCount > 0);
        StageResult? overSlo = p95SloMs is { } slo ? stages.FirstOrDefault(s => s.LatencyMs is { } l && l.P95Ms > slo) : null;
        return new LoadTestSummary(
            best?.RequestsPerSecond,
            best?.Stage,
            MaxUsersBefore(stages, failed),
            failed?.Stage,
            firstFailure,
            p95SloMs,
            p95SloMs is null ? null : MaxUsersBefore(stages, overSlo),
            overSlo?.Stage);
    }

    private static int MaxUsersBefore(IReadOnlyList<StageResult> stages, StageResult? first) =>
        stages.TakeWhile(s => !ReferenceEquals(s, first)).Select(s => s.MaxUsers).DefaultIfEmpty(0).Max();
}
