using AccelBroker.Broker.Enrollment;

namespace AccelBroker.Broker.Storage;

/// <summary>Enrolled agents' credentials (hashes only) in the <c>agent_credentials</c> table of broker.db.</summary>
internal sealed class SqliteAgentCredentialStore(SqliteBrokerDatabase database) : IAgentCredentialStore
{
    public static SqliteTable<AgentCredentialRecord> Table { get; } = new("agent_credentials",
    [
        new("id", c => c.Id),
        new("hash", c => c.Hash),
        new("agent_id", c => c.AgentId),
        new("agent_name", c => c.AgentName),
        new("created_at", c => SqliteRow.Text(c.CreatedAt)),
        new("revoked_at", c => SqliteRow.Text(c.RevokedAt)),
        new("last_seen", c => SqliteRow.Text(c.LastSeen)),
    ],
    row => new AgentCredentialRecord(
        row.String("id"),
        row.String("hash"),
        row.String("agent_id"),
        row.String("agent_name"),
        row.Time("created_at"),
        row.NullableTime("revoked_at"),
        row.NullableTime("last_seen")));

    public IReadOnlyList<AgentCredentialRecord> Load() => Table.Load(database);

    public void Save(IReadOnlyList<AgentCredentialRecord> credentials) => Table.Save(database, credentials);
}
