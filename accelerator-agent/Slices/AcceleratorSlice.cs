using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Metering;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Slices;

/// <summary>
/// A share of this agent's device placed here by the broker, and the one owner of the models it serves: which
/// it serves, which are resident, what they are charged against its memory budget, and which go to make room.
/// Changes happen under the agent's load gate (<see cref="ModelResidency"/> holds it); runs read concurrently.
/// </summary>
internal sealed class AcceleratorSlice
{
    private readonly ConcurrentDictionary<string, SliceModelEntry> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _uploaded = new(StringComparer.Ordinal);
    private readonly IEvictionPolicy _eviction;
    private long _loads;
    private long _evictions;

    // The hashes the slice may load; null: any. Replaced whole, never changed in place.
    private volatile FrozenSet<string>? _allowlist;

    public AcceleratorSlice(SliceAssignment assignment, double evictionThreshold, IEvictionPolicy? eviction = null)
    {
        Assignment = assignment;
        _allowlist = SetOf(assignment.Allowlist);
        Usage = new SliceUsageMeter(assignment.SliceId);
        ThresholdBytes = (long)(assignment.MemoryBytes * evictionThreshold);
        _eviction = eviction ?? LeastRecentlyUsedEviction.Instance;
    }

    /// <summary>As the broker assigned it, with the allowlist it gave last.</summary>
    public SliceAssignment Assignment { get; private set; }

    public string Id => Assignment.SliceId;

    /// <summary>What ran here since the slice was assigned.</summary>
    public SliceUsageMeter Usage { get; }

    /// <summary>Its runs admitted and not yet executing.</summary>
    public SliceRunQueue Queue { get; } = new();

    /// <summary>The memory budget: resident models never hold more.</summary>
    public long BudgetBytes => Assignment.MemoryBytes;

    /// <summary>A load that would take the charge past this evicts idle models first, in the policy's order.</summary>
    public long ThresholdBytes { get; }

    /// <summary>Set once the slice is released: a load finishing after that must not leave its model here.</summary>
    public bool Released { get; private set; }

    /// <summary>Models the slice serves, resident or evicted.</summary>
    public int ModelCount => _models.Count;

    public int ResidentCount => _models.Values.Count(e => e.Resident is not null);

    /// <summary>Bytes charged to resident models.</summary>
    public long ChargedBytes => _models.Values.Where(e => e.Resident is not null).Sum(e => e.ChargedBytes);

    /// <summary>Bytes of resident models a run holds now: no eviction can free them.</summary>
    public long UnevictableBytes => _models.Values.Where(e => e.Resident is { IsIdle: false }).Sum(e => e.ChargedBytes);

    public long Loads => Volatile.Read(ref _loads);

    public long Evictions => Volatile.Read(ref _evictions);

    /// <summary>Every model the slice serves, by id.</summary>
    public IReadOnlyList<SliceModelEntry> ModelsById() => [.. _models.Values.OrderBy(e => e.ModelId, StringComparer.Ordinal)];

    public bool TryGetModel(string modelId, [NotNullWhen(true)] out SliceModelEntry? entry) => _models.TryGetValue(modelId, out entry);

    /// <summary>The model's live module when it is resident: what a run takes without waiting for the gate.</summary>
    public bool TryGetResident(string modelId, [NotNullWhen(true)] out LoadedModel? model)
    {
        model = _models.TryGetValue(modelId, out SliceModelEntry? entry) ? entry.Resident : null;
        return model is { IsAlive: true };
    }

    /// <summary>Whether any model the slice serves, resident or evicted, has these bytes.</summary>
    public bool ServesBytes(string sha256) => _models.Values.Any(e => e.Sha256 == sha256);

    /// <summary>
    /// Whether these bytes came to the agent through this slice (uploaded, or loaded here): what the slice may see of
    /// the shared store, so that no tenant learns from HasModel or LoadModel what another tenant uploaded.
    /// </summary>
    public bool KnowsBytes(string sha256) => _uploaded.ContainsKey(sha256) || ServesBytes(sha256);

    /// <summary>Records that these bytes were uploaded through this slice.</summary>
    public void Uploaded(string sha256) => _uploaded.TryAdd(sha256, 0);

    /// <summary>Whether the slice may load the model with these bytes (its host's allowlist, when it has one).</summary>
    public bool Allows(string sha256) => _allowlist is not { } allowed || allowed.Contains(sha256);

    /// <summary>The hashes the slice may load; <see langword="null"/> when it may load any model.</summary>
    public IReadOnlySet<string>? Allowlist => _allowlist;

    /// <summary>Whether <paramref name="allowlist"/> allows exactly what the slice allows now.</summary>
    public bool HasAllowlist(ModelAllowlist? allowlist) =>
        SetOf(allowlist) is { } wanted ? _allowlist is { } held && held.SetEquals(wanted) : _allowlist is null;

    /// <summary>
    /// Replaces the allowlist, then stops serving every model it no longer allows, as an unload would (each module is
    /// retired after its in-flight runs). A load finishing after this checks the new list (<see cref="Allows"/>) and
    /// abandons a model it does not allow. Returns how many models were removed.
    /// </summary>
    public int RestrictTo(ModelAllowlist? allowlist)
    {
        _allowlist = SetOf(allowlist);
        SliceAssignment updated = Assignment.Clone();
        updated.Allowlist = allowlist?.Clone();
        Assignment = updated;
        int removed = 0;
        foreach (SliceModelEntry entry in _models.Values)
        {
            if (!Allows(entry.Sha256) && _models.TryRemove(entry.ModelId, out _))
            {
                Forget(entry);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>The refusal of a load of bytes the slice's allowlist does not hold.</summary>
    public DomainException NotAllowed(string sha256) =>
        DomainException.PermissionDenied($"model {sha256} is not on the allowlist of host {Assignment.Host}'s accelerator {Assignment.Ordinal}");

    /// <summary>Counts a run of the model toward its recency and its run count.</summary>
    public void Used(string modelId, DateTimeOffset now)
    {
        if (_models.TryGetValue(modelId, out SliceModelEntry? entry))
        {
            entry.Touch(now);
            entry.CountRun();
        }
    }

    /// <summary>Makes a freshly loaded module the model's resident one and serves the model from now on.</summary>
    public void MakeResident(SliceModelEntry entry, LoadedModel model, long chargedBytes, DateTimeOffset now)
    {
        entry.BecomeResident(model, chargedBytes, now);
        _models[entry.ModelId] = entry;
        Interlocked.Increment(ref _loads);
    }

    /// <summary>Retires the model's module, if any; the model stays served and reloads on its next run.</summary>
    public void Forget(SliceModelEntry entry)
    {
        entry.Resident?.Retire();
        entry.BecomeEvicted();
    }

    /// <summary>
    /// Undoes <see cref="MakeResident"/> for a load that failed after it (its worker ended, the slice was released):
    /// the module is retired, and a model that was not served before is not served now.
    /// </summary>
    public void Abandon(SliceModelEntry entry, bool wasServed)
    {
        Forget(entry);
        if (!wasServed)
        {
            _models.TryRemove(entry.ModelId, out _);
        }
    }

    /// <summary>Stops serving a model: its module is retired (after its in-flight runs) and its entry removed.</summary>
    public SliceModelEntry Remove(string modelId)
    {
        if (!_models.TryRemove(modelId, out SliceModelEntry? entry))
        {
            throw DomainException.NotFound($"unknown model '{modelId}' on slice '{Id}'");
        }

        Forget(entry);
        return entry;
    }

    /// <summary>Forgets the modules an ended worker held: they went with it. Returns how many.</summary>
    public int ForgetModelsOf(WorkerProcess worker)
    {
        int lost = 0;
        foreach (SliceModelEntry entry in _models.Values)
        {
            if (entry.Resident is { } model && model.Worker == worker)
            {
                Forget(entry);
                lost++;
            }
        }

        return lost;
    }

    /// <summary>
    /// Unloads idle models, in the eviction policy's order, until <paramref name="needed"/> more bytes stay within
    /// the threshold. Evicts nothing when even unloading every idle model would not fit the budget. Returns whether
    /// the bytes now fit the budget; <paramref name="evicted"/> receives the models unloaded.
    /// </summary>
    public bool MakeRoom(long needed, List<SliceModelEntry> evicted)
    {
        long charged = ChargedBytes;
        if (charged + needed <= ThresholdBytes)
        {
            return true;
        }

        SliceModelEntry[] idle = [.. _models.Values.Where(e => e.Resident is { IsIdle: true })];
        if (charged - idle.Sum(e => e.ChargedBytes) + needed > BudgetBytes)
        {
            return false;
        }

        foreach (SliceModelEntry entry in _eviction.Order(idle))
        {
            if (charged + needed <= ThresholdBytes)
            {
                break;
            }

            // A run may have taken it since the snapshot: then it stays.
            if (entry.Resident is { } model && model.TryRetireIfIdle())
            {
                entry.BecomeEvicted();
                charged -= entry.ChargedBytes;
                evicted.Add(entry);
                Interlocked.Increment(ref _evictions);
            }
        }

        return charged + needed <= BudgetBytes;
    }

    /// <summary>The error for a model id the slice does not serve, listing the ones it does.</summary>
    public DomainException UnknownModel(string modelId)
    {
        string known = _models.IsEmpty ? "none" : string.Join(", ", _models.Keys.Order(StringComparer.Ordinal));
        return DomainException.NotFound($"unknown model '{modelId}' on slice '{Id}'; loaded models: {known}");
    }

    /// <summary>The memory picture now, for the heartbeat (its cumulative usage travels apart: <see cref="Usage"/>).</summary>
    public SliceState StateToProto() =>
        new() { SliceId = Id, MemoryChargedBytes = ChargedBytes, ModelsResident = ResidentCount };

    /// <summary>On release: every module is retired and the slice serves nothing from now on.</summary>
    public void RetireAll()
    {
        Released = true;
        foreach (SliceModelEntry entry in _models.Values)
        {
            Forget(entry);
        }

        _models.Clear();
    }

    // Hashes are compared in lower case, as the store names them; the broker sends them so already.
    private static FrozenSet<string>? SetOf(ModelAllowlist? allowlist) =>
        allowlist?.Sha256.Select(h => h.ToLowerInvariant()).ToFrozenSet(StringComparer.Ordinal);
}
