using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>
/// The words the CLI prints for the contract's enums: the strings the wire carried before protocol v1, so tables
/// and <c>--json</c> output (which operators script against) stay as they were.
/// </summary>
internal static class ContractWords
{
    /// <summary>"healthy" or "unhealthy"; empty when the broker said nothing.</summary>
    public static string Health(AgentHealth health) => health switch
    {
        AgentHealth.Healthy => "healthy",
        AgentHealth.Unhealthy => "unhealthy",
        _ => "",
    };

    /// <summary>"ready", "recovering" or "impaired"; empty when the broker said nothing.</summary>
    public static string State(AcceleratorState state) => state switch
    {
        AcceleratorState.Ready => "ready",
        AcceleratorState.Recovering => "recovering",
        AcceleratorState.Impaired => "impaired",
        _ => "",
    };

    /// <summary>"end_to_end", "agent" or "none"; empty when the broker said nothing.</summary>
    public static string CostBasis(CostBasis basis) => basis switch
    {
        Protocol.V1.CostBasis.EndToEnd => "end_to_end",
        Protocol.V1.CostBasis.Agent => "agent",
        Protocol.V1.CostBasis.None => "none",
        _ => "",
    };
}
