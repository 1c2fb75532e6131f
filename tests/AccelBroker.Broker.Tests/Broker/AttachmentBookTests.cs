using AccelBroker.Broker.Attachments;
using Xunit;

namespace AccelBroker.Tests.Broker;

public sealed class AttachmentBookTests
{
    private static readonly DateTimeOffset s_at = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    internal static AttachmentRecord Record(string host, int ordinal, string agentId = "agent-a", long memory = 2L << 30, double share = 0.125) =>
        new($"acc-{Guid.NewGuid():N}", host, ordinal, "eia2.medium", "c5.large", agentId, "http://127.0.0.1:7001", memory, share, s_at);

    private static AttachmentRecord Attach(AttachmentBook book, string host, string agentId = "agent-a")
    {
        AttachmentRecord record = Record(host, book.LowestFreeOrdinal(host), agentId);
        book.Reserve(record);
        book.Commit(record.Id);
        return record;
    }

    [Fact]
    public void OrdinalsStartAtZeroPerHostAndTheLowestFreeOneIsReused()
    {
        var book = new AttachmentBook(new InMemoryAttachmentStore());

        AttachmentRecord a0 = Attach(book, "host-a");
        AttachmentRecord a1 = Attach(book, "host-a");
        AttachmentRecord a2 = Attach(book, "host-a");
        AttachmentRecord b0 = Attach(book, "host-b");
        Assert.Equal([0, 1, 2, 0], [a0.Ordinal, a1.Ordinal, a2.Ordinal, b0.Ordinal]);

        Assert.True(book.Remove(a1.Id));
        Assert.Equal(1, book.LowestFreeOrdinal("host-a"));
        Assert.Equal(1, Attach(book, "host-a").Ordinal);
        Assert.Equal(3, book.LowestFreeOrdinal("host-a"));
        Assert.False(book.Remove(a1.Id));
    }

    [Fact]
    public void PendingAttachmentsHoldOrdinalsAndCapacityAndGoToTheAgentButAreNotShown()
    {
        var book = new AttachmentBook(new InMemoryAttachmentStore());
        AttachmentRecord committed = Attach(book, "host-a");
        AttachmentRecord pending = Record("host-a", book.LowestFreeOrdinal("host-a"));
        book.Reserve(pending);

        Assert.Equal(1, pending.Ordinal);
        Assert.Equal(2, book.LowestFreeOrdinal("host-a"));
        Assert.Equal((4L << 30, 0.25), book.AllocationsByAgent()["agent-a"]);
        Assert.Equal(2, book.AssignmentsOn("agent-a").Count);
        Assert.Equal([committed], book.ForHost("host-a"));
        Assert.Null(book.Find("host-a", 1));
        Assert.Equal([committed], book.OnAgent("agent-a"));

        book.Abandon(pending.Id);

        Assert.Equal(1, book.LowestFreeOrdinal("host-a"));
        Assert.Equal((2L << 30, 0.125), book.AllocationsByAgent()["agent-a"]);
        Assert.Single(book.AssignmentsOn("agent-a"));
    }

    [Fact]
    public void ReservingATakenOrdinalIsABug()
    {
        var book = new AttachmentBook(new InMemoryAttachmentStore());
        Attach(book, "host-a");

        Assert.Throws<InvalidOperationException>(() => book.Reserve(Record("host-a", 0)));
    }

    [Fact]
    public void ChangesThatCannotBeSavedAreUndone()
    {
        var store = new FlakyStore();
        var book = new AttachmentBook(store);
        AttachmentRecord kept = Attach(book, "host-a");

        store.Fail = true;
        AttachmentRecord record = Record("host-a", 1);
        book.Reserve(record);
        Assert.Throws<IOException>(() => book.Commit(record.Id));
        Assert.Null(book.Find("host-a", 1));
        book.Abandon(record.Id);
        Assert.Equal(1, book.LowestFreeOrdinal("host-a"));

        Assert.Throws<IOException>(() => book.Remove(kept.Id));
        Assert.Equal(kept, book.Find("host-a", 0));

        store.Fail = false;
        Assert.Equal([kept], store.Load());
    }

    [Fact]
    public void LoadsWhatTheStoreHeld()
    {
        var store = new InMemoryAttachmentStore();
        AttachmentRecord record = Record("host-a", 2);
        store.Save([record]);

        var book = new AttachmentBook(store);

        Assert.Equal(record, book.Find("host-a", 2));
        Assert.Equal(0, book.LowestFreeOrdinal("host-a"));
    }

    [Fact]
    public void MissingOrdinalMessagesNameTheHostsOrdinals()
    {
        var book = new AttachmentBook(new InMemoryAttachmentStore());
        Assert.Equal("host 'h' has no accelerators attached", book.DescribeMissing("h", 0));

        Attach(book, "h");
        Attach(book, "h");

        Assert.Equal("host 'h' has no accelerator at ordinal 3; attached ordinals: 0, 1", book.DescribeMissing("h", 3));
    }

    private sealed class FlakyStore : IAttachmentStore
    {
        private IReadOnlyList<AttachmentRecord> _saved = [];

        public bool Fail { get; set; }

        public IReadOnlyList<AttachmentRecord> Load() => _saved;

        public void Save(IReadOnlyList<AttachmentRecord> attachments)
        {
            if (Fail)
            {
                throw new IOException("disk full");
            }

            _saved = [.. attachments];
        }
    }
}
