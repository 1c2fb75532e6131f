using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Agents;

/// <summary>The broker's calls to an agent's <c>AgentControl</c> service, each with a control token for that agent's id.</summary>
internal interface IAgentControlClient
{
    /// <summary>Asks the agent to create the slice; throws when it does not (unreachable, refused, deadline).</summary>
    Task AssignSliceAsync(string agentId, string agentAddress, SliceAssignment slice, CancellationToken ct);

    /// <summary>Asks the agent to drop the slice; throws when the call fails.</summary>
    Task ReleaseSliceAsync(string agentId, string agentAddress, string sliceId, CancellationToken ct);
}
