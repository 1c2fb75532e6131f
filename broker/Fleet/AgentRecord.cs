using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Fleet;

/// <summary>
/// What the broker knows of one agent. Immutable: the registry replaces the record on every change,
/// so a record handed out is a consistent snapshot. <see cref="Device"/> must not be modified.
/// </summary>
internal sealed record AgentRecord(
    string AgentId,
    string Address,
    DeviceInfo Device,
    long CapacityMemoryBytes,
    double CapacityCompute,
    string InstanceType,
    string Version,
    DateTimeOffset RegisteredAt,
    DateTimeOffset LastSeen,
    bool ReportedLost)
{
    /// <summary>The agent's Prometheus scrape URL; empty when it serves none.</summary>
    public string MetricsAddress { get; init; } = "";

    /// <summary>Set by a drain: no new slices are placed on the agent until it is uncordoned.</summary>
    public bool Cordoned { get; init; }
}
