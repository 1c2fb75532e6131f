using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using AccelBroker.Broker.Internal;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Fleet;

/// <summary>
/// The agents known to the broker and when each was last heard from. An agent is healthy while its last
/// registration or heartbeat is at most <see cref="BrokerOptions.UnhealthyAfter"/> old. Agents are kept in the
/// <see cref="IAgentStore"/> on every registration that changes them, removal and cordon; a restarted broker counts
/// each known agent as heard from at start, so none is failed over before it had the time to heartbeat.
/// </summary>
internal sealed class AgentRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, AgentRecord> _agents = new(StringComparer.Ordinal);
    private readonly BrokerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AgentRegistry> _logger;
    private readonly IAgentStore _store;
    private readonly DateTimeOffset _startedAt;

    public AgentRegistry(BrokerOptions options, IAgentStore store, TimeProvider time, ILogger<AgentRegistry> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _store = store;
        DateTimeOffset now = _time.GetUtcNow();
        _startedAt = now;
        foreach (AgentRecord agent in store.Load())
        {
            _agents[agent.AgentId] = agent with { LastSeen = now, ReportedLost = false };
        }
    }

    /// <summary>
    /// Records a registration. An empty id gets a new "agent-" + 12 hex id; a given id (known, or known before
    /// a broker restart) is kept and its record updated, so the agent keeps its slices.
    /// </summary>
    /// <exception cref="DomainException">InvalidInput when the request is not valid; nothing is recorded.</exception>
    public AgentRecord Register(RegisterAgentRequest request)
    {
        string? problem = AgentRegistrationValidator.FindProblem(request);
        if (problem is not null)
        {
            throw DomainException.Invalid(problem);
        }

        DateTimeOffset now = _time.GetUtcNow();
        AgentRecord agent;
        bool known;
        lock (_lock)
        {
            string agentId = request.AgentId.Length > 0 ? request.AgentId : NewAgentId();
            known = _agents.TryGetValue(agentId, out AgentRecord? previous);
            agent = new AgentRecord(
                agentId,
                request.Address,
                request.Device.Clone(),
                request.Capacity.MemoryBytes,
                request.Capacity.Compute,
                request.InstanceType,
                request.Version,
                RegisteredAt: previous?.RegisteredAt ?? now,
                LastSeen: now,
                ReportedLost: false)
            {
                MetricsAddress = request.MetricsAddress,
                Cordoned = previous?.Cordoned ?? false,
            };
            _agents[agentId] = agent;
            if (previous is null || !SameStored(previous, agent))
            {
                SaveOrUndo(agentId, previous);
            }
        }

        BrokerLog.AgentRegistered(
            _logger, agent.AgentId, agent.Address, agent.Device.Kind, agent.Device.Name,
            Units.Mib(agent.CapacityMemoryBytes), Units.Share(agent.CapacityCompute), known);
        return agent;
    }

    /// <summary>Records a heartbeat; false when the agent is unknown (it must register again).</summary>
    public bool TryRecordHeartbeat(string agentId, [NotNullWhen(true)] out AgentRecord? agent)
    {
        DateTimeOffset now = _time.GetUtcNow();
        AgentRecord? previous;
        lock (_lock)
        {
            if (!_agents.TryGetValue(agentId, out previous))
            {
                agent = null;
                return false;
            }

            agent = previous with { LastSeen = now, ReportedLost = false };
            _agents[agentId] = agent;
        }

        if (previous.ReportedLost)
        {
            BrokerLog.AgentRecovered(_logger, agent.AgentId, agent.Address, now - previous.LastSeen);
        }

        return true;
    }

    /// <summary>Forgets the agent (revoked): it is no longer placed on and its slices show unhealthy.</summary>
    /// <exception cref="IOException">The removal could not be saved; the agent is kept.</exception>
    public bool Remove(string agentId)
    {
        lock (_lock)
        {
            if (!_agents.Remove(agentId, out AgentRecord? previous))
            {
                return false;
            }

            SaveOrUndo(agentId, previous);
            return true;
        }
    }

    /// <summary>Cordons (no new slices) or uncordons an agent and saves; false when the agent is unknown.</summary>
    /// <exception cref="IOException">The change could not be saved; nothing changed.</exception>
    public bool SetCordoned(string agentId, bool cordoned, [NotNullWhen(true)] out AgentRecord? agent)
    {
        lock (_lock)
        {
            if (!_agents.TryGetValue(agentId, out AgentRecord? previous))
            {
                agent = null;
                return false;
            }

            agent = previous with { Cordoned = cordoned };
            if (previous.Cordoned != cordoned)
            {
                _agents[agentId] = agent;
                SaveOrUndo(agentId, previous);
            }

            return true;
        }
    }

    public bool TryGet(string agentId, [NotNullWhen(true)] out AgentRecord? agent)
    {
        lock (_lock)
        {
            return _agents.TryGetValue(agentId, out agent);
        }
    }

    /// <summary>All agents by id.</summary>
    public IReadOnlyList<AgentRecord> Snapshot()
    {
        lock (_lock)
        {
            return [.. _agents.Values.OrderBy(a => a.AgentId, StringComparer.Ordinal)];
        }
    }

    /// <summary>
    /// How long the agent has not been heard from; for an agent unknown to the registry (revoked, or not registered since a
    /// broker restart without a data directory), how long this broker has run.
    /// </summary>
    public TimeSpan SilenceOf(string agentId) =>
        _time.GetUtcNow() - (TryGet(agentId, out AgentRecord? agent) ? agent.LastSeen : _startedAt);

    /// <summary>
    /// For messages: "agent a silent for 7 s", or for an agent not in the registry, that it is not in the fleet and how
    /// long the broker has run.
    /// </summary>
    public string DescribeSilence(string agentId) =>
        TryGet(agentId, out AgentRecord? agent)
            ? $"agent {agentId} silent for {Units.Seconds(_time.GetUtcNow() - agent.LastSeen)}"
            : $"agent {agentId} is not in the fleet (revoked, or not registered since the broker started {Units.Seconds(_time.GetUtcNow() - _startedAt)} ago)";

    public bool IsHealthy(AgentRecord agent) => _time.GetUtcNow() - agent.LastSeen <= _options.UnhealthyAfter;

    /// <summary>Agents that turned unhealthy since the last call, each reported once until it is heard from again.</summary>
    public IReadOnlyList<AgentRecord> TakeNewlyLost()
    {
        var lost = new List<AgentRecord>();
        lock (_lock)
        {
            foreach (AgentRecord agent in _agents.Values)
            {
                if (!agent.ReportedLost && !IsHealthy(agent))
                {
                    AgentRecord marked = agent with { ReportedLost = true };
                    _agents[agent.AgentId] = marked;
                    lost.Add(marked);
                }
            }
        }

        return lost;
    }

    // What the store keeps of an agent; a heartbeat-only change is not worth a write.
    private static bool SameStored(AgentRecord a, AgentRecord b) =>
        a.Address == b.Address && a.Device.Equals(b.Device) && a.CapacityMemoryBytes == b.CapacityMemoryBytes
        && a.CapacityCompute.Equals(b.CapacityCompute) && a.InstanceType == b.InstanceType && a.Version == b.Version
        && a.MetricsAddress == b.MetricsAddress && a.Cordoned == b.Cordoned;

    // Called under _lock, after _agents[agentId] changed from previous (null: it was not there): saves, or puts it back and rethrows.
    private void SaveOrUndo(string agentId, AgentRecord? previous)
    {
        try
        {
            _store.Save([.. _agents.Values.OrderBy(a => a.AgentId, StringComparer.Ordinal)]);
        }
        catch
        {
            if (previous is null)
            {
                _agents.Remove(agentId);
            }
            else
            {
                _agents[agentId] = previous;
            }

            throw;
        }
    }

    // Called under _lock.
    private string NewAgentId()
    {
        string agentId;
        do
        {
            agentId = "agent-" + RandomNumberGenerator.GetHexString(12, lowercase: true);
        }
        while (_agents.ContainsKey(agentId));

        return agentId;
    }
}
