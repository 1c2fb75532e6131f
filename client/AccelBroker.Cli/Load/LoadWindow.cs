namespace AccelBroker.Cli.Load;

/// <summary>
/// One stability window: the calls that completed in [<see cref="Start"/>, <see cref="End"/>), their throughput
/// (successful calls per second) and the mean and P95 latency of the successful ones (0 when none succeeded).
/// </summary>
internal sealed record LoadWindow(int Index, TimeSpan Start, TimeSpan End, int Requests, int Succeeded, double RequestsPerSecond, double MeanLatencyMs, double P95Ms);
