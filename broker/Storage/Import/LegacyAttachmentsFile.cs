using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Internal;

namespace AccelBroker.Broker.Storage.Import;

/// <summary><c>attachments.json</c>, where brokers before broker.db kept attachments.</summary>
internal static class LegacyAttachmentsFile
{
    public const string FileName = "attachments.json";

    /// <summary>The attachments in the file; <see langword="null"/> when there is none.</summary>
    /// <exception cref="BrokerConfigurationException">The file cannot be read or is not valid.</exception>
    public static IReadOnlyList<AttachmentRecord>? Read(string path)
    {
        if (LegacyJsonFile.Read(path, BrokerJsonContext.Default.AttachmentsDocument) is not { } document)
        {
            return null;
        }

        LegacyJsonFile.CheckVersion(path, document.Version, AttachmentsDocument.CurrentVersion);
        // Files from before placement epochs have none, and the source-generated reader leaves the init property at 0
        // rather than its initializer's 1: each such attachment is still in its first placement.
        List<AttachmentRecord> attachments = [.. document.Attachments.Select(a => a.Epoch == 0 ? a with { Epoch = 1 } : a)];
        if (AttachmentChecks.FindProblem(attachments) is { } problem)
        {
            throw new BrokerConfigurationException($"attachments file '{path}' is not valid: {problem}");
        }

        return attachments;
    }
}
