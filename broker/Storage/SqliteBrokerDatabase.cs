using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Storage;

/// <summary>
/// Owns the one connection to <c>broker.db</c> in the data directory and serializes every use of it: the stores are
/// called from several services at once. Opening checks the file (a SQLite database, intact, a schema version this broker
/// knows) and runs the missing migrations in one transaction, importing the JSON files of earlier brokers into a new
/// database in that same transaction; anything wrong stops the start with a message naming the file, and a damaged file
/// is never replaced by an empty store.
/// </summary>
internal sealed class SqliteBrokerDatabase : IStoreProbe, IDisposable
{
    public const string FileName = "broker.db";

    // Seconds another connection (an operator's sqlite3 .backup) may hold a lock before a write gives up.
    private const int BusyTimeoutSeconds = 5;
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly byte[] s_header = Encoding.ASCII.GetBytes("SQLite format 3\0");

    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;

    private SqliteBrokerDatabase(string path, SqliteConnection connection)
    {
        FilePath = path;
        _connection = connection;
    }

    /// <summary>The database file, as a full path.</summary>
    public string FilePath { get; }

    public string Location => FilePath;

    /// <summary>
    /// Opens (or creates) <c>broker.db</c> in <paramref name="dataDir"/>. <paramref name="onCreate"/> runs in the
    /// transaction that creates the schema of a new database (the import of older files); what it returns is done
    /// after that transaction commits.
    /// </summary>
    /// <exception cref="BrokerConfigurationException">The directory or file cannot be used; the message says why.</exception>
    public static SqliteBrokerDatabase Open(string dataDir, Func<SqliteConnection, SqliteTransaction, Action>? onCreate, ILogger logger)
    {
        string path = Path.GetFullPath(Path.Combine(dataDir, FileName));
        Prepare(dataDir, path);

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            // The file exists by now (made owner-only above): SQLite must not create one of its own.
            Mode = SqliteOpenMode.ReadWrite,
            // One connection for the broker's life; a pooled one would keep the file open after Dispose.
            Pooling = false,
            DefaultTimeout = BusyTimeoutSeconds,
        }.ToString());
        try
        {
            connection.Open();
            Configure(connection, path);
            CheckIntegrity(connection, path);
            Action? afterCommit = Migrate(connection, path, onCreate);
            var database = new SqliteBrokerDatabase(path, connection);
            afterCommit?.Invoke();
            StorageLog.StoreOpened(logger, path, SqliteSchema.CurrentVersion);
            return database;
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw new BrokerConfigurationException($"broker store '{path}' cannot be used: {ex.Message}", ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="read"/> alone on the connection.</summary>
    public T Read<T>(Func<SqliteConnection, T> read)
    {
        lock (_gate)
        {
            return read(_connection);
        }
    }

    /// <summary>Runs <paramref name="write"/> in one transaction: all of it is stored, or none of it.</summary>
    public void Write(Action<SqliteConnection, SqliteTransaction> write)
    {
        lock (_gate)
        {
            // BEGIN IMMEDIATE: the write lock is taken now, so the transaction cannot fail half way for want of it.
            using SqliteTransaction transaction = _connection.BeginTransaction(deferred: false);
            write(_connection, transaction);
            transaction.Commit();
        }
    }

    /// <summary>A round trip to the database (<c>SELECT 1</c>), for readiness.</summary>
    public void Probe()
    {
        lock (_gate)
        {
            using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "SELECT 1";
            _ = command.ExecuteScalar();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            // Closing the last connection checkpoints the WAL into broker.db and removes it.
            _connection.Dispose();
        }
    }

    private static void Prepare(string dataDir, string path)
    {
        try
        {
            Directory.CreateDirectory(dataDir);
            if (!File.Exists(path))
            {
                // Created empty and owner-only before SQLite writes a byte: it will hold private signing keys. SQLite
                // gives its -wal and -shm files the database's mode.
                var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    create.UnixCreateMode = OwnerOnly;
                }

                using (new FileStream(path, create))
                {
                }

                return;
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, OwnerOnly);
            }

            CheckHeader(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BrokerConfigurationException($"broker store '{path}' cannot be opened: {ex.Message}", ex);
        }
    }

    // An empty file is a new database (one created above, before a crash); anything else must be SQLite's.
    private static void CheckHeader(string path)
    {
        using FileStream stream = File.OpenRead(path);
        if (stream.Length == 0)
        {
            return;
        }

        Span<byte> header = stackalloc byte[16];
        if (stream.Length < 100 || stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header.SequenceEqual(s_header))
        {
            throw new BrokerConfigurationException(
                $"broker store '{path}' is not a SQLite database; the broker does not start over it (restore a backup, or move it away to start empty)");
        }
    }

    private static void Configure(SqliteConnection connection, string path)
    {
        string? mode = Scalar(connection, null, "PRAGMA journal_mode=WAL") as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new BrokerConfigurationException($"broker store '{path}' cannot use write-ahead logging (journal mode stays '{mode}')");
        }

        // FULL, not NORMAL: with WAL, NORMAL may lose the last commits on power loss, and a lost epoch bump or revocation
        // is worse than one more fsync per change (attachments, keys and enrolments change rarely; usage every few seconds).
        Execute(connection, null, string.Create(CultureInfo.InvariantCulture,
            $"PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout={BusyTimeoutSeconds * 1000};"));
    }

    private static void CheckIntegrity(SqliteConnection connection, string path)
    {
        // integrity_check, not quick_check: the store is small (kilobytes to a few megabytes), and it also checks indexes.
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check(5)";
        var problems = new List<string>();
        using (SqliteDataReader reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                problems.Add(reader.GetString(0));
            }
        }

        if (problems is not ["ok"])
        {
            throw new BrokerConfigurationException(
                $"broker store '{path}' is damaged (integrity check: {string.Join("; ", problems)}); the broker does not start over it (restore a backup, or move it away to start empty)");
        }
    }

    private static Action? Migrate(SqliteConnection connection, string path, Func<SqliteConnection, SqliteTransaction, Action>? onCreate)
    {
        long version = Convert.ToInt64(Scalar(connection, null, "PRAGMA user_version"), CultureInfo.InvariantCulture);
        if (version > SqliteSchema.CurrentVersion)
        {
            throw new BrokerConfigurationException(string.Create(CultureInfo.InvariantCulture,
                $"broker store '{path}' has schema version {version}; this broker knows versions up to {SqliteSchema.CurrentVersion} (a newer broker wrote it)"));
        }

        if (version < 0)
        {
            throw new BrokerConfigurationException(string.Create(CultureInfo.InvariantCulture, $"broker store '{path}' has schema version {version}, which no broker writes"));
        }

        if (version == SqliteSchema.CurrentVersion)
        {
            return null;
        }

        using SqliteTransaction transaction = connection.BeginTransaction(deferred: false);
        for (int next = (int)version; next < SqliteSchema.CurrentVersion; next++)
        {
            Execute(connection, transaction, SqliteSchema.Migrations[next]);
        }

        // user_version lives in the database header, which the transaction covers: schema and version commit together.
        Execute(connection, transaction, string.Create(CultureInfo.InvariantCulture, $"PRAGMA user_version={SqliteSchema.CurrentVersion}"));
        Action? afterCommit = version == 0 ? onCreate?.Invoke(connection, transaction) : null;
        transaction.Commit();
        return afterCommit;
    }

    private static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
