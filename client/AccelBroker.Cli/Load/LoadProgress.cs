namespace AccelBroker.Cli.Load;

/// <summary>Where a run stands, as a live display shows it: calls completed, time since the start, windows closed.</summary>
internal readonly record struct LoadProgress(int Completed, TimeSpan Elapsed, int Windows);
