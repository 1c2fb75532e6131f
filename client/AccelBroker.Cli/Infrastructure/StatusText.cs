using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>
/// Status words with their reasons, for describe's tables: what is not healthy or ready says why, so an operator
/// does not have to dig through the broker's log.
/// </summary>
internal static class StatusText
{
    /// <summary>"healthy", "unhealthy: no heartbeat for 9 s (limit 6 s)", with ", cordoned" after a drain.</summary>
    public static string Agent(AgentDescription agent)
    {
        string text = WithReason(ContractWords.Health(agent.Health), agent.Health == AgentHealth.Healthy ? "" : agent.HealthReason);
        return agent.Cordoned ? $"{text}, cordoned" : text;
    }

    /// <summary>"ready", "recovering: agent agent-1 silent for 14 s", "impaired: …"; empty when the broker said nothing.</summary>
    public static string Accelerator(Accelerator accelerator) =>
        WithReason(ContractWords.State(accelerator.State), accelerator.State == AcceleratorState.Ready ? "" : accelerator.StateReason);

    private static string WithReason(string word, string reason) => reason.Length == 0 ? word : word.Length == 0 ? reason : $"{word}: {reason}";
}
