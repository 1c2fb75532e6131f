namespace AccelBroker.Broker.Fleet;

/// <summary>The status strings of the contract (<c>Accelerator.status</c>, <c>AgentDescription.status</c>).</summary>
internal static class AgentHealth
{
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";

    public static string Of(bool healthy) => healthy ? Healthy : Unhealthy;
}
