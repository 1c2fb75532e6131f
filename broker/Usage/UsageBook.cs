using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Usage;

/// <summary>
/// The latest usage of each accelerator: its agent's cumulative figures and each client's cumulative report.
/// A newer report replaces the older one from the same source, so lost or repeated reports do no harm. In
/// memory only: after a broker restart agents resend theirs with the next heartbeat, clients with their next
/// report. Holds only reports that passed <see cref="UsageChecks"/>.
/// </summary>
internal sealed class UsageBook
{
    /// <summary>
    /// Clients kept apart per accelerator; past it, the one that reported least recently is folded into a
    /// retired total (it is done, or its later reports would count its earlier runs twice).
    /// </summary>
    public const int MaxClientsPerAccelerator = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, SliceUsage> _agents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ClientLedger> _clients = new(StringComparer.Ordinal);
    private long _sequence;

    public void RecordAgent(SliceUsage usage)
    {
        lock (_lock)
        {
            _agents[usage.SliceId] = usage;
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
                    if (!ledger.Retired.TryGetValue(model.ModelId, out UsageTotals? totals))
                    {
                        totals = new UsageTotals();
                        ledger.Retired.Add(model.ModelId, totals);
                    }

                    totals.Add(model);
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

    /// <summary>The agent's latest figures for the accelerator, or null before its first heartbeat since attach.</summary>
    public SliceUsage? GetAgent(string acceleratorId)
    {
        lock (_lock)
        {
            return _agents.GetValueOrDefault(acceleratorId);
        }
    }

    /// <summary>The agent's latest figures (null before its first heartbeat) and every client's models, retired ones included.</summary>
    public (SliceUsage? Agent, IReadOnlyList<ModelUsage> Clients) Get(string acceleratorId)
    {
        lock (_lock)
        {
            SliceUsage? agent = _agents.GetValueOrDefault(acceleratorId);
            List<ModelUsage> clients = [];
            if (_clients.TryGetValue(acceleratorId, out ClientLedger? ledger))
            {
                clients.AddRange(ledger.Latest.Values.SelectMany(c => c.Models));
                clients.AddRange(ledger.Retired.Select(r => r.Value.ToProto(r.Key)));
            }

            return (agent, clients);
        }
    }

    private sealed class ClientLedger
    {
        public Dictionary<string, (IReadOnlyList<ModelUsage> Models, long Sequence)> Latest { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, UsageTotals> Retired { get; } = new(StringComparer.Ordinal);
    }
}
