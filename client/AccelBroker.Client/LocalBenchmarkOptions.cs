namespace AccelBroker.Client;

/// <summary>What <see cref="AgentClient.BenchmarkLocalAsync"/> runs: precision, measured runs and discarded warm-up runs.</summary>
public sealed record LocalBenchmarkOptions
{
    /// <summary>Execution precision; fp32 by default.</summary>
    public ModelPrecision Precision { get; init; } = ModelPrecision.Fp32;

    /// <summary>Measured runs, after the warm-up ones. Default 1000.</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>Runs before the measured ones, not timed. Default 1.</summary>
    public int Warmup { get; init; } = 1;
}
