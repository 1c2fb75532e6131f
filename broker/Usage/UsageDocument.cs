namespace AccelBroker.Broker.Usage;

/// <summary>The JSON shape of the usage file in the data directory: the <see cref="UsageBook"/> of every attached accelerator.</summary>
internal sealed record UsageDocument(int Version, IReadOnlyList<AcceleratorUsageRecord> Accelerators)
{
    public const int CurrentVersion = 1;

    public static UsageDocument Empty { get; } = new(CurrentVersion, []);
}
