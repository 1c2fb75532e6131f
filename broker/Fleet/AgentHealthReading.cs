using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Fleet;

/// <summary>
/// The contract's <see cref="AgentHealth"/> from the registry's judgement, and the names the broker's metrics tag
/// it with (the same words the CLI shows).
/// </summary>
internal static class AgentHealthReading
{
    public const string HealthyName = "healthy";
    public const string UnhealthyName = "unhealthy";

    public static AgentHealth Of(bool healthy) => healthy ? AgentHealth.Healthy : AgentHealth.Unhealthy;
}
