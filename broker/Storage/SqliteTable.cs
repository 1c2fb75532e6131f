using System.Globalization;
using Microsoft.Data.Sqlite;

namespace AccelBroker.Broker.Storage;

/// <summary>
/// One kind's table: its columns (the one place a record's fields meet column names) and how a row reads back.
/// Rows come back in the order they were saved (rowid). A row that does not read stops the start with the file, table and
/// row named; values are never echoed, as some columns are hashes or keys.
/// </summary>
internal sealed class SqliteTable<T>(string name, IReadOnlyList<SqliteColumn<T>> columns, Func<SqliteRow, T> read)
{
    private readonly string _select = $"SELECT {string.Join(", ", columns.Select(c => c.Name))} FROM {name} ORDER BY rowid";
    private readonly string _insert =
        $"INSERT INTO {name} ({string.Join(", ", columns.Select(c => c.Name))}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i.ToString(CultureInfo.InvariantCulture)))})";

    public string Name => name;

    public IReadOnlyList<T> Load(SqliteBrokerDatabase database) => database.Read(connection => ReadAll(connection, null, database.FilePath));

    /// <summary>Replaces the table's rows with <paramref name="records"/> in one transaction.</summary>
    public void Save(SqliteBrokerDatabase database, IReadOnlyList<T> records) =>
        database.Write((connection, transaction) => Replace(connection, transaction, records));

    public IReadOnlyList<T> ReadAll(SqliteConnection connection, SqliteTransaction? transaction, string path)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = _select;
        var records = new List<T>();
        try
        {
            using SqliteDataReader reader = command.ExecuteReader();
            var row = new SqliteRow(reader);
            while (reader.Read())
            {
                try
                {
                    records.Add(read(row));
                }
                catch (Exception ex) when (ex is InvalidDataException or FormatException or OverflowException or ArgumentException)
                {
                    throw new BrokerConfigurationException(string.Create(CultureInfo.InvariantCulture,
                        $"broker store '{path}': row {records.Count + 1} of table {name} cannot be read ({ex.Message}); the broker does not start over it"), ex);
                }
            }
        }
        catch (SqliteException ex)
        {
            throw new BrokerConfigurationException($"broker store '{path}': table {name} cannot be read: {ex.Message}", ex);
        }

        return records;
    }

    public void Replace(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<T> records)
    {
        using (SqliteCommand delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = $"DELETE FROM {name}";
            delete.ExecuteNonQuery();
        }

        using SqliteCommand insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = _insert;
        var parameters = new SqliteParameter[columns.Count];
        for (int i = 0; i < columns.Count; i++)
        {
            parameters[i] = insert.Parameters.Add(new SqliteParameter { ParameterName = "$p" + i.ToString(CultureInfo.InvariantCulture) });
        }

        insert.Prepare();
        foreach (T record in records)
        {
            for (int i = 0; i < columns.Count; i++)
            {
                parameters[i].Value = columns[i].Value(record) ?? DBNull.Value;
            }

            insert.ExecuteNonQuery();
        }
    }
}
