using AccelBroker.Broker.Security;

namespace AccelBroker.Broker.Storage;

/// <summary>API keys (their SHA-256 hashes, never secrets) in the <c>api_keys</c> table of broker.db.</summary>
internal sealed class SqliteApiKeyStore(SqliteBrokerDatabase database) : IApiKeyStore
{
    public static SqliteTable<ApiKeyRecord> Table { get; } = new("api_keys",
    [
        new("id", k => k.Id),
        new("name", k => k.Name),
        new("role", k => (long)k.Role),
        new("host", k => k.Host),
        new("hash", k => k.Hash),
        new("created_at", k => SqliteRow.Text(k.CreatedAt)),
        new("created_by", k => k.CreatedBy),
        new("revoked_at", k => SqliteRow.Text(k.RevokedAt)),
    ],
    row => new ApiKeyRecord(
        row.String("id"),
        row.String("name"),
        (AccessRole)row.Int32("role"),
        row.NullableString("host"),
        row.String("hash"),
        row.Time("created_at"),
        row.NullableString("created_by"),
        row.NullableTime("revoked_at")));

    public IReadOnlyList<ApiKeyRecord> Load()
    {
        IReadOnlyList<ApiKeyRecord> keys = Table.Load(database);
        return ApiKeyChecks.FindProblem(keys) is { } problem
            ? throw new BrokerConfigurationException($"broker store '{database.FilePath}': table api_keys is not valid: {problem}")
            : keys;
    }

    public void Save(IReadOnlyList<ApiKeyRecord> keys) => Table.Save(database, keys);
}
