namespace AccelBroker.Cli.LoadTesting;

/// <summary>What a load test measured: the stages that ran, the requests each model got, and whether Ctrl-C cut it short.</summary>
internal sealed record LoadTestResult(
    IReadOnlyList<StageResult> Stages,
    IReadOnlyList<long> RequestsPerModel,
    FirstFailure? FirstFailure,
    double Seconds,
    bool Interrupted);
