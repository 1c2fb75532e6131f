namespace AccelBroker.Benchmarks;

/// <summary>One of the speed targets, measured as a ratio or a rate.</summary>
internal interface IBenchmark
{
    /// <summary>The name used by --only.</summary>
    string Name { get; }

    string Title { get; }

    Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken);
}
