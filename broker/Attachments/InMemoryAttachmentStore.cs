namespace AccelBroker.Broker.Attachments;

/// <summary>Keeps attachments for the life of the process only (no <c>--data-dir</c>).</summary>
internal sealed class InMemoryAttachmentStore : IAttachmentStore
{
    private IReadOnlyList<AttachmentRecord> _attachments = [];

    public IReadOnlyList<AttachmentRecord> Load() => Volatile.Read(ref _attachments);

    public void Save(IReadOnlyList<AttachmentRecord> attachments) =>
        Volatile.Write(ref _attachments, [.. attachments]);
}
