using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// <c>accel loadtest --json</c>: what ran where, the shape, every stage that ran, the summary, and the models the tool
/// loaded (each with the requests it got) and unloaded. Snake_case through <see cref="CliJson"/>.
/// </summary>
internal sealed record LoadTestReport(
    string Host,
    int Ordinal,
    string AcceleratorId,
    string SliceType,
    string Precision,
    IReadOnlyList<LoadTestReport.InputSpec> Inputs,
    int Seed,
    ThinkTime? ThinkTimeMs,
    string Shape,
    IReadOnlyList<LoadStage> ShapeStages,
    IReadOnlyList<LoadTestReport.ModelUse> Models,
    bool Interrupted,
    double Seconds,
    IReadOnlyList<StageResult> Stages,
    LoadTestSummary Summary,
    IReadOnlyList<string> UnloadedAliases,
    IReadOnlyList<string> UnloadFailures)
{
    /// <summary>One model the users chose among: its file, its alias, and how many requests completed on it.</summary>
    internal sealed record ModelUse(string File, string Alias, string ModelId, long Requests);

    /// <summary>The dtype and shape of one input every request sends.</summary>
    internal sealed record InputSpec(string Dtype, IReadOnlyList<long> Shape);
}
