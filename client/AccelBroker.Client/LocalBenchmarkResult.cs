namespace AccelBroker.Client;

/// <summary>What an agent-local benchmark measured: the forward calls timed on the agent itself, no network in between.</summary>
/// <param name="LatenciesSeconds">Each measured run's latency in seconds, in run order (warm-up runs excluded).</param>
/// <param name="Device">The device that executed, as the agent names it, e.g. <c>cuda:0 (NVIDIA T4)</c>.</param>
public sealed record LocalBenchmarkResult(IReadOnlyList<double> LatenciesSeconds, string Device);
