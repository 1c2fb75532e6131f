namespace AccelBroker.Broker.Attachments;

/// <summary>Where attachments are kept. Calls are serialized by <see cref="AttachmentBook"/>.</summary>
internal interface IAttachmentStore
{
    /// <summary>Attachments saved before; empty on first start.</summary>
    IReadOnlyList<AttachmentRecord> Load();

    /// <summary>Replaces what is stored with <paramref name="attachments"/>; all or nothing.</summary>
    void Save(IReadOnlyList<AttachmentRecord> attachments);
}
