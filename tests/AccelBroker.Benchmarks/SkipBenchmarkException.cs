namespace AccelBroker.Benchmarks;

/// <summary>A benchmark cannot run here (a model could not be built): reported as skipped, not as a crash.</summary>
internal sealed class SkipBenchmarkException : Exception
{
    public SkipBenchmarkException(string message)
        : base(message)
    {
    }

    public SkipBenchmarkException()
    {
    }

    public SkipBenchmarkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
