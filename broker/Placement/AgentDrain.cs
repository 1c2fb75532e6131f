using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Internal;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Placement;

/// <summary>
/// Planned maintenance of one agent: a drain cordons it (kept across broker restarts) and moves its slices away one at a
/// time while it still serves; uncordon lets it take new slices again. Slices already moved stay where they went.
/// </summary>
internal sealed class AgentDrain(AgentRegistry registry, SliceRelocator relocator, FleetDescriber describer, ILogger<AgentDrain> logger)
{
    /// <exception cref="DomainException">InvalidInput (no id), NotFound (unknown agent), Internal (the cordon could not be saved).</exception>
    public async Task<DrainAgentResponse> DrainAsync(string agentId, string caller, CancellationToken ct)
    {
        Cordon(agentId, cordoned: true, caller);
        (int moved, IReadOnlyList<string> stranded) = await relocator.DrainAsync(agentId, ct);
        BrokerLog.AgentDrained(logger, agentId, moved, stranded.Count);
        var response = new DrainAgentResponse { Agent = Describe(agentId), SlicesMoved = moved };
        response.SlicesStranded.AddRange(stranded);
        return response;
    }

    /// <exception cref="DomainException">InvalidInput (no id), NotFound (unknown agent), Internal (could not be saved).</exception>
    public UncordonAgentResponse Uncordon(string agentId, string caller)
    {
        Cordon(agentId, cordoned: false, caller);
        return new UncordonAgentResponse { Agent = Describe(agentId) };
    }

    private void Cordon(string agentId, bool cordoned, string caller)
    {
        if (string.IsNullOrEmpty(agentId))
        {
            throw DomainException.Invalid("agent_id is required; accel describe-agents lists them");
        }

        bool known;
        try
        {
            known = registry.SetCordoned(agentId, cordoned, out _);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw DomainException.Internal($"the {(cordoned ? "cordon" : "uncordon")} of agent {agentId} could not be saved: {ex.Message}", ex);
        }

        if (!known)
        {
            throw DomainException.NotFound($"unknown agent '{agentId}'; accel describe-agents lists them");
        }

        BrokerLog.AgentCordoned(logger, agentId, cordoned ? "cordoned" : "uncordoned", caller);
    }

    private AgentDescription Describe(string agentId) =>
        registry.TryGet(agentId, out AgentRecord? agent)
            ? describer.DescribeAgent(agent)
            : throw DomainException.NotFound($"agent '{agentId}' left the fleet during the drain");
}
