using System.Text.Json;
using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Internal;

namespace AccelBroker.Broker.Storage;

/// <summary>Attachments in the <c>attachments</c> table of broker.db; every field, the placement epoch included.</summary>
internal sealed class SqliteAttachmentStore(SqliteBrokerDatabase database) : IAttachmentStore
{
    public static SqliteTable<AttachmentRecord> Table { get; } = new("attachments",
    [
        new("id", a => a.Id),
        new("host", a => a.Host),
        new("ordinal", a => a.Ordinal),
        new("slice_type", a => a.SliceType),
        new("host_type", a => a.HostType),
        new("agent_id", a => a.AgentId),
        new("agent_address", a => a.AgentAddress),
        new("memory_bytes", a => a.MemoryBytes),
        new("compute_share", a => a.ComputeShare),
        new("attached_at", a => SqliteRow.Text(a.AttachedAt)),
        // JSON array of hashes; NULL means any model, unlike [] (none).
        new("allowlist", a => a.Allowlist is null ? null : JsonSerializer.Serialize([.. a.Allowlist], BrokerJsonContext.Default.ListString)),
        new("epoch", a => a.Epoch),
    ],
    row => new AttachmentRecord(
        row.String("id"),
        row.String("host"),
        row.Int32("ordinal"),
        row.String("slice_type"),
        row.String("host_type"),
        row.String("agent_id"),
        row.String("agent_address"),
        row.Int64("memory_bytes"),
        row.Double("compute_share"),
        row.Time("attached_at"),
        ReadAllowlist(row.NullableString("allowlist")))
    {
        Epoch = row.Int64("epoch"),
    });

    public IReadOnlyList<AttachmentRecord> Load()
    {
        IReadOnlyList<AttachmentRecord> attachments = Table.Load(database);
        return AttachmentChecks.FindProblem(attachments) is { } problem
            ? throw new BrokerConfigurationException($"broker store '{database.FilePath}': table attachments is not valid: {problem}")
            : attachments;
    }

    public void Save(IReadOnlyList<AttachmentRecord> attachments) => Table.Save(database, attachments);

    private static List<string>? ReadAllowlist(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(json, BrokerJsonContext.Default.ListString)
                ?? throw new InvalidDataException("column allowlist is not a JSON array");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException("column allowlist is not a JSON array of strings", ex);
        }
    }
}
