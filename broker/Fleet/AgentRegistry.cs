using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using AccelBroker.Broker.Internal;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Fleet;

/// <summary>
/// The agents known to the broker and when each was last heard from. An agent is healthy while its last
/// registration or heartbeat is at most <see cref="BrokerOptions.UnhealthyAfter"/> old.
/// </summary>
internal sealed class AgentRegistry(BrokerOptions options, TimeProvider time, ILogger<AgentRegistry> logger)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, AgentRecord> _agents = new(StringComparer.Ordinal);

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

        DateTimeOffset now = time.GetUtcNow();
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
            };
            _agents[agentId] = agent;
        }

        BrokerLog.AgentRegistered(
            logger, agent.AgentId, agent.Address, agent.Device.Kind, agent.Device.Name,
            Units.Mib(agent.CapacityMemoryBytes), Units.Share(agent.CapacityCompute), known);
        return agent;
    }

    /// <summary>Records a heartbeat; false when the agent is unknown (it must register again).</summary>
    public bool TryRecordHeartbeat(string agentId, [NotNullWhen(true)] out AgentRecord? agent)
    {
        DateTimeOffset now = time.GetUtcNow();
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
            BrokerLog.AgentRecovered(logger, agent.AgentId, agent.Address, now - previous.LastSeen);
        }

        return true;
    }

    /// <summary>Forgets the agent (revoked): it is no longer placed on and its slices show unhealthy.</summary>
    public bool Remove(string agentId)
    {
        lock (_lock)
        {
            return _agents.Remove(agentId);
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

    public bool IsHealthy(AgentRecord agent) => time.GetUtcNow() - agent.LastSeen <= options.UnhealthyAfter;

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
