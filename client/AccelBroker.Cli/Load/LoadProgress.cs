namespace AccelBroker.Cli.Load;

/// <summary>
/// Where a run stands, as a live display shows it: calls completed, time since the start, windows closed, and the
/// stop rule's arrivals so far with those an open loop could not issue.
/// </summary>
internal readonly record struct LoadProgress(int Completed, TimeSpan Elapsed, int Windows, int Arrivals, int NotIssued);
