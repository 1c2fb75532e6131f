namespace AccelBroker.Cli.LoadTesting;

/// <summary>Where a running load test is, for the live display: stage (from 1), users, the stage's requests/s and failures, time left.</summary>
internal sealed record LoadProgress(int Stage, int Stages, int Users, double RequestsPerSecond, int Failures, TimeSpan Elapsed, TimeSpan Left);
