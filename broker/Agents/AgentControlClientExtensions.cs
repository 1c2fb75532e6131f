using AccelBroker.Broker.Internal;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Agents;

/// <summary>Calls to agents whose failure is logged and otherwise ignored.</summary>
internal static class AgentControlClientExtensions
{
    /// <summary>
    /// Asks the agent to drop the slice and logs a failure: the book no longer names it there, and the agent's next
    /// heartbeat answer drops it anyway. An agent without an address (never registered) is not called.
    /// </summary>
    public static async Task ReleaseBestEffortAsync(
        this IAgentControlClient agents, string agentId, string agentAddress, string sliceId, TimeSpan callTimeout, ILogger logger)
    {
        if (string.IsNullOrEmpty(agentAddress))
        {
            return;
        }

        try
        {
            await agents.ReleaseSliceAsync(agentId, agentAddress, sliceId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            BrokerLog.SliceReleaseFailed(logger, agentId, agentAddress, sliceId, AgentCallFailure.Describe(ex, callTimeout));
        }
    }
}
