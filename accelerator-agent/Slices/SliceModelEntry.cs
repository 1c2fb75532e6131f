using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Execution.Batching;
using AccelBroker.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace AccelBroker.Agent.Slices;

/// <summary>
/// A model a slice serves: the options it was loaded with, what it is charged, and its loaded module while it is
/// resident. An evicted model keeps its entry, so its next run reloads it from the agent's store with the same
/// options. Its residency is changed only by the <see cref="AcceleratorSlice"/> that serves it (under the agent's
/// load gate); <see cref="LastUsedTicks"/> and <see cref="Runs"/> change with runs, atomically.
/// </summary>
internal sealed class SliceModelEntry
{
    private long _lastUsedTicks;
    private long _runs;
    private LoadedModel? _resident;

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

    /// <summary>The loaded module, or null while evicted; runs read it without the gate.</summary>
    public LoadedModel? Resident => Volatile.Read(ref _resident);

    /// <summary>Bytes charged to the slice by the last load (held while resident).</summary>
    public long ChargedBytes { get; private set; }

    public long LoadCount { get; private set; }

    public long Runs => Volatile.Read(ref _runs);

    /// <summary>When a run last started or the model was last loaded (UTC ticks); least recently used goes first.</summary>
    public long LastUsedTicks => Volatile.Read(ref _lastUsedTicks);

    public void Touch(DateTimeOffset now) => Volatile.Write(ref _lastUsedTicks, now.UtcTicks);

    public void CountRun() => Interlocked.Increment(ref _runs);

    /// <summary>Records a load: the module now serves runs, charged <paramref name="chargedBytes"/>.</summary>
    internal void BecomeResident(LoadedModel model, long chargedBytes, DateTimeOffset now)
    {
        ChargedBytes = chargedBytes;
        LoadCount++;
        Touch(now);
        Volatile.Write(ref _resident, model);
    }

    /// <summary>Records that the module is gone (evicted, unloaded or lost with its worker); the caller retired it.</summary>
    internal void BecomeEvicted() => Volatile.Write(ref _resident, null);

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

        proto.WarmupInputs.AddRange(Warmup);
        return proto;
    }
}
