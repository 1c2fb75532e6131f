namespace AccelBroker.Benchmarks;

/// <summary>One benchmark's headline number against its target, with the measurements behind it.</summary>
internal sealed record BenchmarkResult
{
    public required string Name { get; init; }

    public required string Title { get; init; }

    /// <summary>What <see cref="Value"/> is, e.g. "p50 Run / p50 Echo".</summary>
    public string Metric { get; init; } = "";

    public double? Value { get; init; }

    public string ValueText { get; init; } = "";

    /// <summary>The target, as text, e.g. "<= 1.50".</summary>
    public string Target { get; init; } = "";

    public Outcome Outcome { get; init; }

    /// <summary>The device the agent reported executing on.</summary>
    public string Device { get; init; } = "";

    /// <summary>Measurements behind the headline, one line each.</summary>
    public IReadOnlyList<string> Details { get; init; } = [];

    /// <summary>Named numbers for --json (milliseconds, MB/s, ratios; the key says which).</summary>
    public IReadOnlyDictionary<string, double> Numbers { get; init; } = new Dictionary<string, double>();

    public string? Error { get; init; }

    public static Outcome Judge(bool met) => met ? Outcome.Pass : Outcome.Fail;
}
