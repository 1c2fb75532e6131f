namespace AccelBroker.Benchmarks;

/// <summary>What every benchmark of a run shares: the loopback cluster, the checkout and the mode.</summary>
internal sealed record BenchmarkContext(LoopbackCluster Cluster, RepoPaths Paths, LargeModels LargeModels, bool Quick, double SoakMinutes);
