namespace AccelBroker.Broker.Attachments;

/// <summary>The JSON shape of the attachment file in the data directory.</summary>
internal sealed record AttachmentsDocument(int Version, IReadOnlyList<AttachmentRecord> Attachments)
{
    public const int CurrentVersion = 1;
}
