using System.Text.Json;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Usage;

namespace AccelBroker.Broker.Storage;

/// <summary>
/// The usage book in the <c>usage</c> table of broker.db: one row per accelerator, its record as compact JSON (histograms
/// are sparse bucket lists there, as they were in usage.json).
/// </summary>
internal sealed class SqliteUsageStore(SqliteBrokerDatabase database) : IUsageStore
{
    // Compact: histograms have up to a thousand buckets.
    private static readonly BrokerJsonContext s_json = new(new JsonSerializerOptions(BrokerJsonContext.Default.Options) { WriteIndented = false });

    public static SqliteTable<AcceleratorUsageRecord> Table { get; } = new("usage",
    [
        new("accelerator_id", a => a.AcceleratorId),
        new("record", a => JsonSerializer.Serialize(a, s_json.AcceleratorUsageRecord)),
    ],
    row =>
    {
        string id = row.String("accelerator_id");
        AcceleratorUsageRecord record;
        try
        {
            record = JsonSerializer.Deserialize(row.String("record"), s_json.AcceleratorUsageRecord)
                ?? throw new InvalidDataException("column record is null JSON");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"column record of accelerator {id} is not valid JSON: {ex.Message}", ex);
        }

        return record.AcceleratorId == id ? record : throw new InvalidDataException($"column record of accelerator {id} names another accelerator");
    });

    public string Location => database.FilePath;

    public UsageDocument? Read()
    {
        IReadOnlyList<AcceleratorUsageRecord> accelerators = Table.Load(database);
        if (accelerators.Count == 0)
        {
            return null;
        }

        var document = new UsageDocument(UsageDocument.CurrentVersion, accelerators);
        return UsageFile.FindProblem(document) is { } problem
            ? throw new BrokerConfigurationException($"broker store '{database.FilePath}': table usage is not valid: {problem}")
            : document;
    }

    public void Write(UsageDocument document) => Table.Save(database, document.Accelerators);
}
