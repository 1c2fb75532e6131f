namespace AccelBroker.Cli.Probing;

/// <summary>What <see cref="MaxModelsProbe"/> found, and what it left on the slice.</summary>
internal sealed record MaxModelsResult
{
    /// <summary>The charge of each copy that fit under the threshold without evicting anything, in load order.</summary>
    public required IReadOnlyList<long> CopyCharges { get; init; }

    public required long BudgetBytes { get; init; }

    public required long ThresholdBytes { get; init; }

    /// <summary>Charged to the slice's other resident models when the probe started.</summary>
    public required long OtherModelsBytes { get; init; }

    public required int OtherModels { get; init; }

    public required string Device { get; init; }

    /// <summary>One of the <see cref="MaxModelsProbe"/> stop reasons.</summary>
    public required string StoppedBecause { get; init; }

    /// <summary>The slice's charge when the probe stopped, and the next copy's estimated charge (for a threshold stop).</summary>
    public long ChargedAtStopBytes { get; init; }

    public long NextCopyBytes { get; init; }

    /// <summary>The agent's message when it refused a copy.</summary>
    public string RefusedBecause { get; init; } = "";

    /// <summary>Models a copy evicted (they reload on their next run); the copy that did so is not counted as fitting.</summary>
    public IReadOnlyList<string> EvictedModelIds { get; init; } = [];

    /// <summary>Model ids of every copy the probe loaded, the evicting one included.</summary>
    public required IReadOnlyList<string> LoadedModelIds { get; init; }

    public IReadOnlyList<string> UnloadedModelIds { get; init; } = [];

    /// <summary>Copies that could not be unloaded, each as "model id: reason".</summary>
    public IReadOnlyList<string> UnloadFailures { get; init; } = [];

    public bool Kept { get; init; }
}
