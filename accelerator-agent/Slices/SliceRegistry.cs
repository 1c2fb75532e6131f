using System.Collections.Concurrent;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Registration;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Slices;

/// <summary>The slices this agent holds, kept in step with the broker.</summary>
internal sealed class SliceRegistry
{
    // Shares are fractions such as 1/8 that do not add up exactly in binary.
    private const double ShareTolerance = 1e-9;

    private readonly ConcurrentDictionary<string, AcceleratorSlice> _slices = new(StringComparer.Ordinal);

    // Guards the slice table's changes and the record of direct changes together.
    private readonly object _assignGate = new();

    // The mark of each slice's latest assign or release by the broker's control call; see ReconcileMark.
    private readonly Dictionary<string, long> _directChanges = new(StringComparer.Ordinal);
    private long _changeMark;
    private readonly AgentCapacity _capacity;
    private readonly double _evictionThreshold;
    private readonly IEvictionPolicy _eviction;
    private readonly ILogger<SliceRegistry> _logger;

    public SliceRegistry(AgentIdentity identity, AgentOptions options, IEvictionPolicy eviction, ILogger<SliceRegistry> logger)
        : this(identity.Capacity, options.EvictionThreshold, logger, eviction)
    {
    }

    internal SliceRegistry(AgentCapacity capacity, double evictionThreshold, ILogger<SliceRegistry> logger, IEvictionPolicy? eviction = null)
    {
        _capacity = capacity;
        _evictionThreshold = evictionThreshold;
        _eviction = eviction ?? LeastRecentlyUsedEviction.Instance;
        _logger = logger;
    }

    public IReadOnlyCollection<AcceleratorSlice> All => _slices.Values.ToArray();

    /// <summary>Told the id of each slice released, after its models were retired.</summary>
    public event Action<string>? Released;

    /// <summary>Told the id of each slice assigned, once it can be found.</summary>
    public event Action<string>? Assigned;

    /// <summary>Whether the slice is assigned here now.</summary>
    public bool IsAssigned(string sliceId) => _slices.ContainsKey(sliceId);

    /// <summary>Whether any slice serves the model with these bytes, resident or evicted: its bytes must stay on disk.</summary>
    public bool Holds(string sha256) => _slices.Values.Any(slice => slice.ServesBytes(sha256));

    // asOf: null for the broker's direct call (recorded), else the mark of the reconciling list (skipped when newer).
    private void Assign(SliceAssignment assignment, long? asOf)
    {
        if (string.IsNullOrWhiteSpace(assignment.SliceId))
        {
            throw DomainException.Invalid("slice_id is required");
        }

        if (assignment.SliceId == LocalBenchmark.ComputeTenant)
        {
            throw DomainException.Invalid($"slice id '{assignment.SliceId}' is reserved by the agent");
        }

        if (assignment.MemoryBytes <= 0 || assignment.ComputeShare <= 0 || assignment.ComputeShare > 1)
        {
            throw DomainException.Invalid($"slice {assignment.SliceId}: memory must be positive and compute share in (0, 1]");
        }

        // A slice back at another epoch was placed elsewhere meanwhile: what it held here is stale, so it starts afresh.
        if (_slices.TryGetValue(assignment.SliceId, out AcceleratorSlice? stale) && stale.Assignment.Epoch != assignment.Epoch
            && Release(assignment.SliceId, asOf))
        {
            AgentLog.SliceEpochChanged(_logger, assignment.SliceId, assignment.Epoch, stale.Assignment.Epoch);
        }

        AssignUnderGate(assignment, asOf);
    }

    private void AssignUnderGate(SliceAssignment assignment, long? asOf)
    {
        bool created = false;
        lock (_assignGate)
        {
            if (ChangedDirectlySince(assignment.SliceId, asOf))
            {
                return;
            }

            // A slice held already keeps its shares; only its allowlist follows the broker (SetAllowedModels).
            if (_slices.TryGetValue(assignment.SliceId, out AcceleratorSlice? held))
            {
                if (held.Assignment.SliceType == assignment.SliceType && !held.HasAllowlist(assignment.Allowlist))
                {
                    // Under the gate, so a reconciling list never puts back an older allowlist over a direct change.
                    int unloaded = held.RestrictTo(assignment.Allowlist);
                    if (asOf is null)
                    {
                        _directChanges[assignment.SliceId] = ++_changeMark;
                    }

                    AgentLog.SliceAllowlistChanged(_logger, held.Id, assignment.Allowlist?.Sha256.Count ?? -1, unloaded);
                }

                return;
            }

            // The broker never oversubscribes an agent; this guards against a broker that disagrees about capacity.
            long memory = _slices.Values.Sum(s => s.Assignment.MemoryBytes) + assignment.MemoryBytes;
            double compute = _slices.Values.Sum(s => s.Assignment.ComputeShare) + assignment.ComputeShare;
            if (memory > _capacity.MemoryBytes || compute > _capacity.Compute + ShareTolerance)
            {
                throw DomainException.Exhausted($"slice {assignment.SliceId} does not fit: slices would hold {memory} of {_capacity.MemoryBytes} bytes " +
                    $"and {compute:0.###} of {_capacity.Compute:0.###} of the device's compute");
            }

            _slices[assignment.SliceId] = new AcceleratorSlice(assignment, _evictionThreshold, _eviction);
            created = true;
            if (asOf is null)
            {
                _directChanges[assignment.SliceId] = ++_changeMark;
            }
        }

        if (!created)
        {
            return;
        }

        AgentLog.SliceAssigned(_logger, assignment.SliceId, assignment.SliceType, assignment.Host, assignment.Ordinal);
        Assigned?.Invoke(assignment.SliceId);
    }

    /// <summary>Assigns a slice the broker's control call names; for a slice held already with the same type, replaces its allowlist.</summary>
    public void Assign(SliceAssignment assignment) => Assign(assignment, asOf: null);

    /// <summary>Releases a slice the broker's control call names; false when it is not held.</summary>
    public bool Release(string sliceId) => Release(sliceId, asOf: null);

    /// <summary>
    /// The mark to take just before asking the broker for its list of this agent's slices. The broker books an
    /// attach before it calls the agent and books a detach before it calls the agent, so a list computed after
    /// the request left already reflects every direct change made before the mark; a direct change made after it
    /// may be newer than the list, and that list must not undo it (the next heartbeat's list settles it).
    /// </summary>
    public long ReconcileMark()
    {
        lock (_assignGate)
        {
            return _changeMark;
        }
    }

    /// <summary>Makes the held slices exactly the broker's list, as of now.</summary>
    public void Reconcile(IEnumerable<SliceAssignment> assigned) => Reconcile(assigned, ReconcileMark());

    /// <summary>
    /// Makes the held slices the broker's list, except for slices assigned or released directly after
    /// <paramref name="asOf"/> (a <see cref="ReconcileMark"/> taken before the list was asked for).
    /// </summary>
    public void Reconcile(IEnumerable<SliceAssignment> assigned, long asOf)
    {
        var wanted = assigned.ToDictionary(s => s.SliceId, StringComparer.Ordinal);
        foreach (string held in _slices.Keys)
        {
            if (!wanted.ContainsKey(held))
            {
                Release(held, asOf);
            }
        }

        foreach (SliceAssignment assignment in wanted.Values)
        {
            try
            {
                // Creates a missing slice; a held one takes the list's allowlist.
                Assign(assignment, asOf);
            }
            catch (DomainException ex)
            {
                // One slice that does not fit must not keep the others from being assigned.
                AgentLog.SliceRefused(_logger, assignment.SliceId, ex.Message);
            }
        }

        lock (_assignGate)
        {
            // The broker's list now reflects every direct change up to the mark: only newer ones need keeping.
            foreach (KeyValuePair<string, long> change in _directChanges.Where(c => c.Value <= asOf).ToArray())
            {
                _directChanges.Remove(change.Key);
            }
        }
    }

    private bool Release(string sliceId, long? asOf)
    {
        AcceleratorSlice? slice;
        lock (_assignGate)
        {
            if (ChangedDirectlySince(sliceId, asOf))
            {
                return false;
            }

            if (asOf is null)
            {
                _directChanges[sliceId] = ++_changeMark;
            }

            if (!_slices.TryRemove(sliceId, out slice))
            {
                return false;
            }
        }

        slice.RetireAll();
        Released?.Invoke(sliceId);
        AgentLog.SliceReleased(_logger, sliceId);
        return true;
    }

    // Called under the gate.
    private bool ChangedDirectlySince(string sliceId, long? asOf) =>
        asOf is { } mark && _directChanges.TryGetValue(sliceId, out long changed) && changed > mark;

    public bool TryGet(string sliceId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out AcceleratorSlice? slice) =>
        _slices.TryGetValue(sliceId, out slice);

    public AcceleratorSlice Get(string sliceId)
    {
        if (_slices.TryGetValue(sliceId, out AcceleratorSlice? slice))
        {
            return slice;
        }

        throw DomainException.NotFound($"slice '{sliceId}' is not held by this agent (it may have been detached)");
    }
}
