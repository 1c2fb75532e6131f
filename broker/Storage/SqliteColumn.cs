namespace AccelBroker.Broker.Storage;

/// <summary>One column of a store's table and how a record fills it; the table's reader reads it back by name.</summary>
internal sealed record SqliteColumn<T>(string Name, Func<T, object?> Value);
