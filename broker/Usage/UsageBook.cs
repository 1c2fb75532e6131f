using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Usage;

/// <summary>
/// The usage of each accelerator since it was attached: its agent's cumulative figures and each client's
/// cumulative report. A newer report replaces the older one from the same source, so lost or repeated reports
/// do no harm; when the agent's counters start again from zero (it restarted), the figures it reported before
/// are kept as a base that later reports add to. Holds only reports that passed <see cref="UsageChecks"/>.
/// With a data directory, <see cref="UsageSaver"/> keeps it across broker restarts.
/// </summary>
internal sealed class UsageBook
{
    /// <summary>
    /// Clients kept apart per accelerator; past it, the one that reported least recently is folded into a
    /// retired total (it is done, or its later reports would count its earlier runs twice).
    /// </summary>
    public const int MaxClientsPerAccelerator = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, AgentLedger> _agents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ClientLedger> _clients = new(StringComparer.Ordinal);
    private long _sequence;
    private long _revision;

    /// <summary>Grows with every change of the figures (not with a report that repeats the last one).</summary>
    public long Revision
    {
        get
        {
            lock (_lock)
            {
                return _revision;
            }
        }
    }

    /// <summary>
    /// Keeps the agent's latest report of a slice: its usage, and its state (a reading of now, shown but neither
    /// counted in <see cref="Revision"/> nor saved; none reads as nothing resident).
    /// </summary>
    /// <returns>The previous report when the counters started again from zero and it was added to the base; otherwise null.</returns>
    public SliceUsage? RecordAgent(SliceUsage usage, SliceState? state = null)
    {
        lock (_lock)
        {
            if (!_agents.TryGetValue(usage.SliceId, out AgentLedger? ledger))
            {
                _agents.Add(usage.SliceId, new AgentLedger(usage) { State = state ?? Nothing(usage.SliceId) });
                _revision++;
                return null;
            }

            SliceUsage previous = ledger.Latest;
            ledger.Latest = usage;
            ledger.State = state ?? Nothing(usage.SliceId);
            if (IsReset(previous, usage))
            {
                foreach (ModelUsage model in previous.Models)
                {
                    Totals(ledger.Base, model.ModelId).Add(model);
                }

                _revision++;
                return previous;
            }

            if (!previous.Models.Equals(usage.Models))
            {
                _revision++;
            }

            return null;
        }
    }

    public void RecordClient(string acceleratorId, string clientId, IReadOnlyList<ModelUsage> models)
    {
        lock (_lock)
        {
            if (!_clients.TryGetValue(acceleratorId, out ClientLedger? ledger))
            {
                ledger = new ClientLedger();
                _clients.Add(acceleratorId, ledger);
            }

            if (!ledger.Latest.TryGetValue(clientId, out (IReadOnlyList<ModelUsage> Models, long Sequence) previous)
                || !previous.Models.SequenceEqual(models))
            {
                _revision++;
            }

            ledger.Latest[clientId] = (models, ++_sequence);
            if (ledger.Latest.Count > MaxClientsPerAccelerator)
            {
                string oldest = ledger.Latest.MinBy(c => c.Value.Sequence).Key;
                ledger.Latest.Remove(oldest, out (IReadOnlyList<ModelUsage> Models, long Sequence) folded);
                foreach (ModelUsage model in folded.Models)
                {
                    Totals(ledger.Retired, model.ModelId).Add(model);
                }
            }
        }
    }

    /// <summary>Drops everything about a detached accelerator.</summary>
    public void Forget(string acceleratorId)
    {
        lock (_lock)
        {
            if (_agents.Remove(acceleratorId) | _clients.Remove(acceleratorId))
            {
                _revision++;
            }
        }
    }

    /// <summary>The agent's latest report for the accelerator, or null before its first heartbeat since attach.</summary>
    public SliceUsage? GetAgent(string acceleratorId)
    {
        lock (_lock)
        {
            return _agents.GetValueOrDefault(acceleratorId)?.Latest;
        }
    }

    /// <summary>
    /// The slice's state as of the agent's latest report since attach (nothing resident when that report carried
    /// none, or when the report was restored after a broker restart), or null before the first one.
    /// </summary>
    public SliceState? GetState(string acceleratorId)
    {
        lock (_lock)
        {
            return _agents.GetValueOrDefault(acceleratorId)?.State;
        }
    }

    /// <summary>
    /// The agent's models since attach (the base kept at counter resets, then the latest report: a model may
    /// appear twice) and every client's models, retired ones included.
    /// </summary>
    public (IReadOnlyList<ModelUsage> Agent, IReadOnlyList<ModelUsage> Clients) Get(string acceleratorId)
    {
        lock (_lock)
        {
            List<ModelUsage> agent = [];
            if (_agents.TryGetValue(acceleratorId, out AgentLedger? agentLedger))
            {
                agent.AddRange(agentLedger.Base.Select(b => b.Value.ToProto(b.Key)));
                agent.AddRange(agentLedger.Latest.Models);
            }

            List<ModelUsage> clients = [];
            if (_clients.TryGetValue(acceleratorId, out ClientLedger? ledger))
            {
                clients.AddRange(ledger.Latest.Values.SelectMany(c => c.Models));
                clients.AddRange(ledger.Retired.Select(r => r.Value.ToProto(r.Key)));
            }

            return (agent, clients);
        }
    }

    /// <summary>Everything in the book, to save, and the <see cref="Revision"/> it shows.</summary>
    public (UsageDocument Document, long Revision) Snapshot()
    {
        lock (_lock)
        {
            List<AcceleratorUsageRecord> accelerators = [];
            foreach (string id in _agents.Keys.Union(_clients.Keys).Order(StringComparer.Ordinal))
            {
                AgentLedger? agent = _agents.GetValueOrDefault(id);
                ClientLedger? clients = _clients.GetValueOrDefault(id);
                accelerators.Add(new AcceleratorUsageRecord(
                    id,
                    agent is null ? null : new AgentUsageRecord(agent.Latest.Incarnation, [.. agent.Latest.Models.Select(ModelUsageRecord.From)]),
                    agent is null ? [] : ToRecords(agent.Base),
                    clients is null ? [] : [.. clients.Latest.OrderBy(c => c.Value.Sequence)
                        .Select(c => new ClientUsageRecord(c.Key, [.. c.Value.Models.Select(ModelUsageRecord.From)]))],
                    clients is null ? [] : ToRecords(clients.Retired)));
            }

            return (new UsageDocument(UsageDocument.CurrentVersion, accelerators), _revision);
        }
    }

    /// <summary>
    /// Replaces the book's contents with a saved document (checked by <see cref="UsageFile"/>), keeping only
    /// accelerators in <paramref name="attached"/>: the others were detached while the figures were unsaved.
    /// </summary>
    /// <returns>How many accelerators were restored and how many dropped.</returns>
    public (int Restored, int Dropped) Restore(UsageDocument document, IReadOnlySet<string> attached)
    {
        lock (_lock)
        {
            _agents.Clear();
            _clients.Clear();
            int dropped = 0;
            foreach (AcceleratorUsageRecord accelerator in document.Accelerators)
            {
                if (!attached.Contains(accelerator.AcceleratorId))
                {
                    dropped++;
                    continue;
                }

                if (accelerator.Agent is { } agent)
                {
                    var latest = new SliceUsage { SliceId = accelerator.AcceleratorId, Incarnation = agent.Incarnation };
                    latest.Models.AddRange(agent.Models.Select(m => m.ToProto()));
                    var ledger = new AgentLedger(latest);
                    AddRecords(ledger.Base, accelerator.AgentBase);
                    _agents.Add(accelerator.AcceleratorId, ledger);
                }

                if (accelerator.Clients.Count > 0 || accelerator.RetiredClients.Count > 0)
                {
                    var ledger = new ClientLedger();
                    foreach (ClientUsageRecord client in accelerator.Clients)
                    {
                        ledger.Latest[client.ClientId] = ([.. client.Models.Select(m => m.ToProto())], ++_sequence);
                    }

                    AddRecords(ledger.Retired, accelerator.RetiredClients);
                    _clients.Add(accelerator.AcceleratorId, ledger);
                }
            }

            _revision++;
            return (document.Accelerators.Count - dropped, dropped);
        }
    }

    // A new incarnation means new counters. Agents that send none are judged like Prometheus counters: a
    // figure that went down, or a model no longer reported, means they started again from zero.
    private static bool IsReset(SliceUsage previous, SliceUsage current)
    {
        if (previous.Incarnation.Length > 0 && current.Incarnation.Length > 0)
        {
            return previous.Incarnation != current.Incarnation;
        }

        var now = current.Models.ToDictionary(m => m.ModelId, StringComparer.Ordinal);
        return previous.Models.Any(before => !now.TryGetValue(before.ModelId, out ModelUsage? after)
            || after.Inferences < before.Inferences
            || after.Failures < before.Failures
            || after.RejectedQueueFull < before.RejectedQueueFull
            || after.DroppedDeadline < before.DroppedDeadline);
    }

    private static SliceState Nothing(string sliceId) => new() { SliceId = sliceId };

    private static UsageTotals Totals(Dictionary<string, UsageTotals> byModel, string modelId)
    {
        if (!byModel.TryGetValue(modelId, out UsageTotals? totals))
        {
            totals = new UsageTotals();
            byModel.Add(modelId, totals);
        }

        return totals;
    }

    private static List<ModelUsageRecord> ToRecords(Dictionary<string, UsageTotals> byModel) =>
        [.. byModel.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => ModelUsageRecord.From(t.Value.ToProto(t.Key)))];

    private static void AddRecords(Dictionary<string, UsageTotals> byModel, IReadOnlyList<ModelUsageRecord> records)
    {
        foreach (ModelUsageRecord record in records)
        {
            Totals(byModel, record.ModelId).Add(record.ToProto());
        }
    }

    private sealed class AgentLedger(SliceUsage latest)
    {
        public SliceUsage Latest { get; set; } = latest;

        /// <summary>The state that came with <see cref="Latest"/>.</summary>
        public SliceState State { get; set; } = Nothing(latest.SliceId);

        /// <summary>What the agent's earlier incarnations of the slice's counters added up to, by model.</summary>
        public Dictionary<string, UsageTotals> Base { get; } = new(StringComparer.Ordinal);
    }

    private sealed class ClientLedger
    {
        public Dictionary<string, (IReadOnlyList<ModelUsage> Models, long Sequence)> Latest { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, UsageTotals> Retired { get; } = new(StringComparer.Ordinal);
    }
}
