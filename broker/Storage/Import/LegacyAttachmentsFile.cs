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
        if (AttachmentChecks.FindProblem(document.Attachments) is { } problem)
        {
            throw new BrokerConfigurationException($"attachments file '{path}' is not valid: {problem}");
        }

        return document.Attachments;
    }
}
