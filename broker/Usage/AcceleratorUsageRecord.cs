namespace AccelBroker.Broker.Usage;

/// <summary>
/// One accelerator's usage as saved: the agent's latest report and what earlier incarnations of its counters
/// added up to, each client's latest report (least recent first) and the clients folded into a retired total.
/// </summary>
internal sealed record AcceleratorUsageRecord(
    string AcceleratorId,
    AgentUsageRecord? Agent,
    IReadOnlyList<ModelUsageRecord> AgentBase,
    IReadOnlyList<ClientUsageRecord> Clients,
    IReadOnlyList<ModelUsageRecord> RetiredClients);
