namespace AccelBroker.Broker.Fleet;

/// <summary>
/// Where the agents the broker knows are kept, so a restarted broker still knows which agents hold which slices (and which
/// are cordoned) before they heartbeat again. <see cref="AgentRecord.LastSeen"/> and <see cref="AgentRecord.ReportedLost"/>
/// are not kept: health is judged afresh after a restart. Calls are serialized by <see cref="AgentRegistry"/>.
/// </summary>
internal interface IAgentStore
{
    /// <summary>Agents saved before; empty on first start.</summary>
    IReadOnlyList<AgentRecord> Load();

    /// <summary>Replaces what is stored with <paramref name="agents"/>; all or nothing.</summary>
    void Save(IReadOnlyList<AgentRecord> agents);
}
