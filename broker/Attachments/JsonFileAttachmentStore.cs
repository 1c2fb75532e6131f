using System.Text.Json;
using AccelBroker.Broker.Internal;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Attachments;

/// <summary>
/// Keeps attachments in <c>attachments.json</c> in the data directory. A save writes a temporary file,
/// flushes it to disk and moves it over the old one, so a crash leaves either the old or the new file.
/// </summary>
internal sealed class JsonFileAttachmentStore : IAttachmentStore
{
    public const string FileName = "attachments.json";

    public JsonFileAttachmentStore(string dataDir)
    {
        try
        {
            Directory.CreateDirectory(dataDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BrokerConfigurationException($"data directory '{dataDir}' cannot be created: {ex.Message}", ex);
        }

        FilePath = Path.Combine(dataDir, FileName);
    }

    public string FilePath { get; }

    public IReadOnlyList<AttachmentRecord> Load()
    {
        if (!File.Exists(FilePath))
        {
            return [];
        }

        AttachmentsDocument? document;
        try
        {
            using FileStream stream = File.OpenRead(FilePath);
            document = JsonSerializer.Deserialize(stream, BrokerJsonContext.Default.AttachmentsDocument);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BrokerConfigurationException($"attachments file '{FilePath}' cannot be read: {ex.Message}", ex);
        }
        catch (JsonException ex)
        {
            throw new BrokerConfigurationException($"attachments file '{FilePath}' is not valid: {ex.Message}", ex);
        }

        if (document is null || document.Version != AttachmentsDocument.CurrentVersion)
        {
            throw new BrokerConfigurationException(
                $"attachments file '{FilePath}' has version {document?.Version}; this broker reads version {AttachmentsDocument.CurrentVersion}");
        }

        string? problem = FindProblem(document.Attachments);
        if (problem is not null)
        {
            throw new BrokerConfigurationException($"attachments file '{FilePath}' is not valid: {problem}");
        }

        return document.Attachments;
    }

    public void Save(IReadOnlyList<AttachmentRecord> attachments)
    {
        string temporary = $"{FilePath}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(
                    stream,
                    new AttachmentsDocument(AttachmentsDocument.CurrentVersion, attachments),
                    BrokerJsonContext.Default.AttachmentsDocument);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, FilePath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static string? FindProblem(IReadOnlyList<AttachmentRecord> attachments)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var ordinals = new HashSet<(string Host, int Ordinal)>();
        foreach (AttachmentRecord attachment in attachments)
        {
            if (string.IsNullOrEmpty(attachment.Id) || string.IsNullOrEmpty(attachment.Host) || string.IsNullOrEmpty(attachment.AgentId))
            {
                return "an attachment has an empty id, host or agent id";
            }

            if (attachment.Ordinal < 0)
            {
                return $"attachment {attachment.Id} has a negative ordinal";
            }

            if (!ids.Add(attachment.Id))
            {
                return $"attachment id {attachment.Id} appears more than once";
            }

            if (!ordinals.Add((attachment.Host, attachment.Ordinal)))
            {
                return $"host '{attachment.Host}' has more than one attachment at ordinal {attachment.Ordinal}";
            }

            if (attachment.Allowlist is { } allowlist)
            {
                // Read back through the request checks: a hand-edited file is held to what the RPC accepts.
                var proto = new ModelAllowlist();
                proto.Sha256.AddRange(allowlist.Select(h => h ?? ""));
                try
                {
                    ModelAllowlistChecks.Normalize(proto);
                }
                catch (DomainException ex)
                {
                    return $"attachment {attachment.Id}: {ex.Message}";
                }
            }
        }

        return null;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only a stray temporary file is left; the next save writes a new one.
        }
    }
}
