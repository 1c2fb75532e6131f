namespace AccelBroker.Broker.Storage;

/// <summary>
/// The schema of <c>broker.db</c> as forward migrations: entry <c>i</c> takes <c>PRAGMA user_version</c> from
/// <c>i</c> to <c>i + 1</c>. Never edit a shipped entry; add one (a new column is one
/// <c>ALTER TABLE … ADD COLUMN … DEFAULT …</c>, plus its line in the store's column list).
/// Times are ISO 8601 text with their offset ("O"), which sorts and reads back exactly.
/// </summary>
internal static class SqliteSchema
{
    public static IReadOnlyList<string> Migrations { get; } =
    [
        // 1: every kind the broker keeps.
        """
        CREATE TABLE attachments (
            id TEXT NOT NULL PRIMARY KEY,
            host TEXT NOT NULL,
            ordinal INTEGER NOT NULL,
            slice_type TEXT NOT NULL,
            host_type TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            agent_address TEXT NOT NULL,
            memory_bytes INTEGER NOT NULL,
            compute_share REAL NOT NULL,
            attached_at TEXT NOT NULL,
            allowlist TEXT NULL,
            epoch INTEGER NOT NULL,
            UNIQUE (host, ordinal));
        CREATE TABLE agents (
            agent_id TEXT NOT NULL PRIMARY KEY,
            address TEXT NOT NULL,
            device BLOB NOT NULL,
            capacity_memory_bytes INTEGER NOT NULL,
            capacity_compute REAL NOT NULL,
            instance_type TEXT NOT NULL,
            version TEXT NOT NULL,
            registered_at TEXT NOT NULL,
            metrics_address TEXT NOT NULL,
            cordoned INTEGER NOT NULL);
        CREATE TABLE api_keys (
            id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            role INTEGER NOT NULL,
            host TEXT NULL,
            hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NULL,
            revoked_at TEXT NULL);
        CREATE TABLE enrollment_tokens (
            id TEXT NOT NULL PRIMARY KEY,
            hash TEXT NOT NULL,
            agent_name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            reusable INTEGER NOT NULL,
            used_at TEXT NULL);
        CREATE TABLE agent_credentials (
            id TEXT NOT NULL PRIMARY KEY,
            hash TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            agent_name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT NULL,
            last_seen TEXT NULL);
        CREATE TABLE signing_keys (
            kid TEXT NOT NULL PRIMARY KEY,
            private_key BLOB NOT NULL,
            created_at TEXT NOT NULL,
            retired_at TEXT NULL,
            not_after TEXT NULL);
        CREATE TABLE usage (
            accelerator_id TEXT NOT NULL PRIMARY KEY,
            record TEXT NOT NULL);
        """,
    ];

    /// <summary>The version this broker writes and reads.</summary>
    public static int CurrentVersion => Migrations.Count;
}
