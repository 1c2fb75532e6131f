namespace AccelBroker.Broker.Fleet;

/// <summary>Keeps agents for the life of the process only (no <c>--data-dir</c>).</summary>
internal sealed class InMemoryAgentStore : IAgentStore
{
    private IReadOnlyList<AgentRecord> _agents = [];

    public IReadOnlyList<AgentRecord> Load() => Volatile.Read(ref _agents);

    public void Save(IReadOnlyList<AgentRecord> agents) => Volatile.Write(ref _agents, [.. agents]);
}
