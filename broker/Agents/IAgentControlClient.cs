using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Agents;

/// <summary>The broker's calls to an agent's <c>AgentControl</c> service.</summary>
internal interface IAgentControlClient
{
    /// <summary>Asks the agent to create the slice; throws when it does not (unreachable, refused, deadline).</summary>
    Task AssignSliceAsync(string agentAddress, SliceAssignment slice, CancellationToken ct);

    /// <summary>Asks the agent to drop the slice; throws when the call fails.</summary>
    Task ReleaseSliceAsync(string agentAddress, string sliceId, CancellationToken ct);
}
