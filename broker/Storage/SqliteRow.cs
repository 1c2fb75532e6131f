using System.Globalization;
using Microsoft.Data.Sqlite;

namespace AccelBroker.Broker.Storage;

/// <summary>
/// Typed reads of one row by column name. A value of the wrong type or form throws <see cref="InvalidDataException"/>
/// naming the column, which the table turns into a start-up error naming the file.
/// </summary>
internal sealed class SqliteRow(SqliteDataReader reader)
{
    public string String(string column) => Get(column, static (r, i) => r.GetFieldType(i) == typeof(string) ? r.GetString(i) : throw new InvalidCastException("not text"));

    public string? NullableString(string column) => IsNull(column) ? null : String(column);

    public long Int64(string column) => Get(column, static (r, i) => r.GetFieldType(i) == typeof(long) ? r.GetInt64(i) : throw new InvalidCastException("not an integer"));

    public int Int32(string column) => checked((int)Int64(column));

    public double Double(string column) => Get(column, static (r, i) => r.GetFieldType(i) == typeof(double) || r.GetFieldType(i) == typeof(long)
        ? r.GetDouble(i)
        : throw new InvalidCastException("not a number"));

    public bool Boolean(string column) => Int64(column) switch
    {
        0 => false,
        1 => true,
        _ => throw new InvalidDataException($"column {column} is not 0 or 1"),
    };

    public byte[] Blob(string column) => Get(column, static (r, i) => r.GetFieldType(i) == typeof(byte[]) ? (byte[])r.GetValue(i) : throw new InvalidCastException("not a blob"));

    public DateTimeOffset Time(string column)
    {
        string text = String(column);
        return DateTimeOffset.TryParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTimeOffset time)
            ? time
            : throw new InvalidDataException($"column {column} is not an ISO 8601 time");
    }

    public DateTimeOffset? NullableTime(string column) => IsNull(column) ? null : Time(column);

    /// <summary>The form <see cref="Time(string)"/> reads.</summary>
    public static string Text(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    public static string? Text(DateTimeOffset? time) => time is { } value ? Text(value) : null;

    private bool IsNull(string column) => reader.IsDBNull(Ordinal(column));

    private T Get<T>(string column, Func<SqliteDataReader, int, T> read)
    {
        int ordinal = Ordinal(column);
        if (reader.IsDBNull(ordinal))
        {
            throw new InvalidDataException($"column {column} is null");
        }

        try
        {
            return read(reader, ordinal);
        }
        catch (InvalidCastException ex)
        {
            throw new InvalidDataException($"column {column} is {ex.Message}", ex);
        }
    }

    private int Ordinal(string column)
    {
        try
        {
            return reader.GetOrdinal(column);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new InvalidDataException($"column {column} is missing", ex);
        }
    }
}
