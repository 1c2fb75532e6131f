using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Execution.Batching;
using AccelBroker.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace AccelBroker.Agent.Slices;

/// <summary>
/// A model a slice serves: the options it was loaded with, what it is charged, and its loaded module while it is
/// resident. An evicted model keeps its entry, so its next run reloads it from the agent's store with the same
/// options. Fields that change are written under the loader's gate; <see cref="LastUsedTicks"/> and
/// <see cref="Runs"/> by runs, atomically.
/// </summary>
internal sealed class SliceModelEntry
{
    private long _lastUsedTicks;
    private long _runs;

    public SliceModelEntry(string modelId, string sha256, Precision precision, string alias, IReadOnlyList<TensorSpec> warmup, BatchingOptions? batching)
    {
        ModelId = modelId;
        Sha256 = sha256;
        Precision = precision;
        Alias = alias;
        Warmup = warmup;
        Batching = batching;
    }

    public string ModelId { get; }

    public string Sha256 { get; }

    public Precision Precision { get; }

    public string Alias { get; }

    public IReadOnlyList<TensorSpec> Warmup { get; }

    public BatchingOptions? Batching { get; }

    /// <summary>The loaded module, or null while evicted.</summary>
    public LoadedModel? Resident { get; set; }

    /// <summary>Bytes charged to the slice by the last load (held while resident).</summary>
    public long ChargedBytes { get; set; }

    public long LoadCount { get; set; }

    public long Runs => Volatile.Read(ref _runs);

    /// <summary>When a run last started or the model was last loaded (UTC ticks); least recently used goes first.</summary>
    public long LastUsedTicks => Volatile.Read(ref _lastUsedTicks);

    public void Touch(DateTimeOffset now) => Volatile.Write(ref _lastUsedTicks, now.UtcTicks);

    public void CountRun() => Interlocked.Increment(ref _runs);

    public Protocol.V1.SliceModel ToProto()
    {
        var proto = new Protocol.V1.SliceModel
        {
            ModelId = ModelId,
            Sha256 = Sha256,
            Precision = Precision,
            Alias = Alias,
            Resident = Resident is not null,
            ChargedBytes = ChargedBytes,
            LastUsed = Timestamp.FromDateTimeOffset(new DateTimeOffset(LastUsedTicks, TimeSpan.Zero)),
            LoadCount = LoadCount,
            Runs = Runs,
        };
        if (Batching is { } batching)
        {
            proto.Batching = new BatchingConfig { MaxBatchSize = batching.MaxBatchSize, MaxDelayMicros = (long)batching.MaxDelay.TotalMicroseconds };
        }

        return proto;
    }
}
