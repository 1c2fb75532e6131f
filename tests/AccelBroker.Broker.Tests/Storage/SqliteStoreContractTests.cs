using AccelBroker.Broker.Usage;
using Xunit;

namespace AccelBroker.Tests.Storage;

/// <summary>The stores of a broker with a data directory (broker.db), plus what only they do: usage, and an owner-only file.</summary>
public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("accelbroker-sqlite-").FullName;

    public override void Dispose()
    {
        base.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void UsageComesBackWholeAndASaveReplacesIt()
    {
        var usage = new SqliteUsageStoreAccess(Stores);
        Assert.Null(usage.Store.Read());

        IReadOnlyList<AcceleratorUsageRecord> records = UsageJson.Sample().Accelerators;
        AcceleratorUsageRecord first = records[0];
        AcceleratorUsageRecord second = records[1];
        usage.Store.Write(new UsageDocument(UsageDocument.CurrentVersion, [first, second]));
        usage.Store.Write(new UsageDocument(UsageDocument.CurrentVersion, [second, first]));

        UsageDocument loaded = Assert.IsType<UsageDocument>(new SqliteUsageStoreAccess(Restarted()).Store.Read());

        Assert.Equal(["acc-2", "acc-1"], loaded.Accelerators.Select(a => a.AcceleratorId));
        Assert.Equal(UsageJson.Of(new UsageDocument(UsageDocument.CurrentVersion, [second, first])), UsageJson.Of(loaded));
    }

    [Fact]
    public void TheDatabaseAndItsWriteAheadLogAreOwnerOnly()
    {
        Stores.ApiKeys.Save([]);
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (string file in Directory.GetFiles(_directory, "broker.db*"))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        Assert.Contains(Directory.GetFiles(_directory), f => Path.GetFileName(f) == "broker.db-wal");
    }

    [Fact]
    public void TheProbeAnswersWhileTheDatabaseIsOpenAndFailsOnceClosed()
    {
        var stores = (SqliteStoreSet)Stores;
        stores.Database.Probe();
        Assert.Equal(TestDatabase.PathIn(_directory), stores.Database.Location);

        stores.Database.Dispose();
        Assert.ThrowsAny<InvalidOperationException>(stores.Database.Probe);
    }

    internal override IStoreSet Open() => new SqliteStoreSet(_directory);

    // The set is reopened by the base class; this reads whichever one is current.
    private sealed class SqliteUsageStoreAccess(IStoreSet stores)
    {
        public IUsageStore Store { get; } = ((SqliteStoreSet)stores).Usage;
    }
}
