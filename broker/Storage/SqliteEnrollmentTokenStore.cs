using AccelBroker.Broker.Enrollment;

namespace AccelBroker.Broker.Storage;

/// <summary>Enrolment tokens (hashes only) in the <c>enrollment_tokens</c> table of broker.db.</summary>
internal sealed class SqliteEnrollmentTokenStore(SqliteBrokerDatabase database) : IEnrollmentTokenStore
{
    public static SqliteTable<EnrollmentTokenRecord> Table { get; } = new("enrollment_tokens",
    [
        new("id", t => t.Id),
        new("hash", t => t.Hash),
        new("agent_name", t => t.AgentName),
        new("created_at", t => SqliteRow.Text(t.CreatedAt)),
        new("expires_at", t => SqliteRow.Text(t.ExpiresAt)),
        new("reusable", t => t.Reusable),
        new("used_at", t => SqliteRow.Text(t.UsedAt)),
    ],
    row => new EnrollmentTokenRecord(
        row.String("id"),
        row.String("hash"),
        row.String("agent_name"),
        row.Time("created_at"),
        row.Time("expires_at"),
        row.Boolean("reusable"),
        row.NullableTime("used_at")));

    public IReadOnlyList<EnrollmentTokenRecord> Load() => Table.Load(database);

    public void Save(IReadOnlyList<EnrollmentTokenRecord> tokens) => Table.Save(database, tokens);
}
