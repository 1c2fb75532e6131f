using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Usage;

/// <summary>
/// The usage of each accelerator since it was attached: its agent's cumulative figures and each client's
/// cumulative report. A newer report replaces the older one from the same source, so lost or repeated reports
/// do no harm; when the agent's counters start again from zero (it restarted), the figures it reported before
/// are kept as a base that later reports add to. In memory only: after a broker restart agents resend theirs
/// with the next heartbeat, clients with their next report. Holds only reports that passed <see cref="UsageChecks"/>.
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

    /// <summary>Keeps the agent's latest report of a slice.</summary>
    /// <returns>The previous report when the counters started again from zero and it was added to the base; otherwise null.</returns>
    public SliceUsage? RecordAgent(SliceUsage usage)
    {
        lock (_lock)
        {
            if (!_agents.TryGetValue(usage.SliceId, out AgentLedger? ledger))
            {
                _agents.Add(usage.SliceId, new AgentLedger(usage));
                return null;
            }

            SliceUsage previous = ledger.Latest;
            ledger.Latest = usage;
            if (IsReset(previous, usage))
            {
                foreach (ModelUsage model in previous.Models)
                {
                    Totals(ledger.Base, model.ModelId).Add(model);
                }

                return previous;
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
            _agents.Remove(acceleratorId);
            _clients.Remove(acceleratorId);
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
            || after.Failures < before.Failures);
    }

    private static UsageTotals Totals(Dictionary<string, UsageTotals> byModel, string modelId)
    {
        if (!byModel.TryGetValue(modelId, out UsageTotals? totals))
        {
            totals = new UsageTotals();
            byModel.Add(modelId, totals);
        }

        return totals;
    }

    private sealed class AgentLedger(SliceUsage latest)
    {
        public SliceUsage Latest { get; set; } = latest;

        /// <summary>What the agent's earlier incarnations of the slice's counters added up to, by model.</summary>
        public Dictionary<string, UsageTotals> Base { get; } = new(StringComparer.Ordinal);
    }

    private sealed class ClientLedger
    {
        public Dictionary<string, (IReadOnlyList<ModelUsage> Models, long Sequence)> Latest { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, UsageTotals> Retired { get; } = new(StringComparer.Ordinal);
    }
}
