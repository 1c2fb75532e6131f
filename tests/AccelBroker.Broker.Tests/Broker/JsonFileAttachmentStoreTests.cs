using AccelBroker.Broker;
using AccelBroker.Broker.Attachments;
using Xunit;

namespace AccelBroker.Tests.Broker;

public sealed class JsonFileAttachmentStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("accelbroker-store-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void NoFileMeansNoAttachments()
    {
        var store = new JsonFileAttachmentStore(Path.Combine(_directory, "new", "dir"));

        Assert.Empty(store.Load());
        Assert.True(Directory.Exists(Path.Combine(_directory, "new", "dir")));
    }

    [Fact]
    public void SavedAttachmentsAreLoadedByANewStore()
    {
        AttachmentRecord[] records = [AttachmentBookTests.Record("host-a", 0), AttachmentBookTests.Record("host-a", 1, "agent-b", 8L << 30, 0.5)];
        new JsonFileAttachmentStore(_directory).Save(records);
        new JsonFileAttachmentStore(_directory).Save(records.Take(1).Concat(records.Skip(1)).ToArray());

        IReadOnlyList<AttachmentRecord> loaded = new JsonFileAttachmentStore(_directory).Load();

        Assert.Equal(records, loaded);
        Assert.Equal(["attachments.json"], Directory.GetFiles(_directory).Select(Path.GetFileName));
        string json = File.ReadAllText(Path.Combine(_directory, "attachments.json"));
        Assert.Contains("\"agent_address\": \"http://127.0.0.1:7001\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void SavingAnEmptyListClearsTheFile()
    {
        var store = new JsonFileAttachmentStore(_directory);
        store.Save([AttachmentBookTests.Record("host-a", 0)]);
        store.Save([]);

        Assert.Empty(new JsonFileAttachmentStore(_directory).Load());
    }

    [Theory]
    [InlineData("not json", "is not valid")]
    [InlineData("""{"version": 2, "attachments": []}""", "has version 2")]
    [InlineData("""{"version": 1, "attachments": [{"id": "acc-1"}]}""", "is not valid")]
    [InlineData("""{"version": 1, "attachments": [{"id": "acc-1", "host": "h", "ordinal": 0, "slice_type": "s", "host_type": "", "agent_id": "a", "agent_address": "", "memory_bytes": 1, "compute_share": 0.1, "attached_at": "2025-01-01T00:00:00Z"}, {"id": "acc-2", "host": "h", "ordinal": 0, "slice_type": "s", "host_type": "", "agent_id": "a", "agent_address": "", "memory_bytes": 1, "compute_share": 0.1, "attached_at": "2025-01-01T00:00:00Z"}]}""", "host 'h' has more than one attachment at ordinal 0")]
    public void InvalidFileStopsTheBrokerNamingTheFile(string json, string problem)
    {
        string path = Path.Combine(_directory, "attachments.json");
        File.WriteAllText(path, json);

        var ex = Assert.Throws<BrokerConfigurationException>(() => new JsonFileAttachmentStore(_directory).Load());

        Assert.Contains($"attachments file '{path}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }
}
