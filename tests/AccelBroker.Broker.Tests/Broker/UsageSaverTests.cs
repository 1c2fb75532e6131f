using System.Text.Json;
using AccelBroker.Broker;
using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Storage;
using AccelBroker.Broker.Usage;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Broker;

/// <summary>The usage book in broker.db: saved on a bounded cadence and on shutdown, restored at start; an unusable usage.json is set aside by the import.</summary>
public sealed class UsageSaverTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly string _directory = Directory.CreateTempSubdirectory("accelbroker-usage-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggers;

    private readonly List<SqliteBrokerDatabase> _databases = [];

    private string FilePath => Path.Combine(_directory, UsageFile.FileName);

    public UsageSaverTests(ITestOutputHelper output)
    {
        _loggers = LoggerFactory.Create(logging => logging
            .AddProvider(_logs)
            .AddProvider(new TestOutputLoggerProvider(output, "broker"))
            .SetMinimumLevel(LogLevel.Debug));
    }

    public void Dispose()
    {
        _databases.ForEach(d => d.Dispose());
        _loggers.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void ASavedBookIsRestoredWholeByTheNextBroker()
    {
        var book = new UsageBook();
        UsageSaver saver = Saver(book, "acc-1", "acc-2");
        book.RecordAgent(Slice("acc-1", "first", UsageBookTests.Report(5, failures: 1)), State("acc-1"));
        book.RecordAgent(Slice("acc-1", "second", UsageBookTests.Report(2)), State("acc-1"));
        for (int i = 0; i < UsageBook.MaxClientsPerAccelerator + 3; i++)
        {
            book.RecordClient("acc-1", $"client-{i}", [UsageBookTests.Report(1)]);
        }

        book.RecordClient("acc-2", "client-a", [UsageBookTests.Report(4, modelId: "n")]);
        Assert.True(saver.SaveIfChanged());

        var restored = new UsageBook();
        Saver(restored, "acc-1", "acc-2");

        Assert.Equal(Json(book), Json(restored));
        Assert.Equal(book.Get("acc-1").Agent, restored.Get("acc-1").Agent);
        Assert.Equal(7, restored.Get("acc-1").Agent.Sum(m => m.Inferences));
        Assert.Equal(UsageBook.MaxClientsPerAccelerator + 3, restored.Get("acc-1").Clients.Sum(m => m.Inferences));
        Assert.Equal(4, restored.Get("acc-2").Clients.Sum(m => m.Inferences));
        // The memory figures are a reading of now: not kept.
        Assert.Equal(0, restored.GetState("acc-1")!.MemoryChargedBytes);
        // The restored incarnation is the agent's current one: its next report replaces, a new one adds.
        Assert.Null(restored.RecordAgent(Slice("acc-1", "second", UsageBookTests.Report(3)), State("acc-1")));
        Assert.NotNull(restored.RecordAgent(Slice("acc-1", "third", UsageBookTests.Report(1)), State("acc-1")));
        Assert.Equal(9, restored.Get("acc-1").Agent.Sum(m => m.Inferences));
        Assert.Contains(_logs.Events, e => e is ("UsageLoaded", LogLevel.Information));
    }

    [Fact]
    public void OverloadCountersAreSavedAndRestoredAndARecordSavedBeforeThemReadsAsZero()
    {
        var book = new UsageBook();
        UsageSaver saver = Saver(book, "acc-1");
        book.RecordAgent(Slice("acc-1", "first", UsageBookTests.Overloaded(UsageBookTests.Report(3), rejected: 7, dropped: 2)), State("acc-1"));
        book.RecordAgent(Slice("acc-1", "second", UsageBookTests.Overloaded(UsageBookTests.Report(1), rejected: 1, dropped: 1)), State("acc-1"));
        Assert.True(saver.SaveIfChanged());

        var restored = new UsageBook();
        Saver(restored, "acc-1");
        Assert.Equal(8, restored.Get("acc-1").Agent.Sum(m => m.RejectedQueueFull));
        Assert.Equal(3, restored.Get("acc-1").Agent.Sum(m => m.DroppedDeadline));

        // The shape brokers wrote before the counters existed: no field for them.
        const string Old = """{"accelerator_id":"acc-1","agent":{"incarnation":"x","models":[{"model_id":"m","inferences":0,"failures":2}]},"agent_base":[],"clients":[],"retired_clients":[]}""";
        AcceleratorUsageRecord record = JsonSerializer.Deserialize(Old, BrokerJsonContext.Default.AcceleratorUsageRecord)!;
        ModelUsageRecord model = Assert.Single(record.Agent!.Models);
        Assert.Equal((2L, 0L, 0L), (model.Failures, model.RejectedQueueFull, model.DroppedDeadline));
    }

    [Fact]
    public void ChangesAreSavedAtMostOncePerIntervalAndOnlyWhenThereAreAny()
    {
        var book = new UsageBook();
        UsageSaver saver = Saver(book, "acc-1");
        book.RecordClient("acc-1", "client-a", [UsageBookTests.Report(1)]);

        Assert.False(saver.SaveIfDue());
        _time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        Assert.False(saver.SaveIfDue());
        Assert.False(File.Exists(FilePath));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(saver.SaveIfDue());
        Assert.Equal(1, Saved().Accelerators.Single().Clients.Single().Models.Single().Inferences);

        // Nothing new: nothing written, however long it has been.
        _time.Advance(Interval * 10);
        Assert.False(saver.SaveIfDue());

        // A change right after a save waits for the interval; a report that repeats the last one is no change.
        book.RecordClient("acc-1", "client-a", [UsageBookTests.Report(2)]);
        Assert.True(saver.SaveIfDue());
        book.RecordClient("acc-1", "client-a", [UsageBookTests.Report(3)]);
        _time.Advance(Interval / 2);
        Assert.False(saver.SaveIfDue());
        Assert.Equal(2, Saved().Accelerators.Single().Clients.Single().Models.Single().Inferences);
        _time.Advance(Interval / 2);
        Assert.True(saver.SaveIfDue());
        Assert.Equal(3, Saved().Accelerators.Single().Clients.Single().Models.Single().Inferences);
        book.RecordClient("acc-1", "client-a", [UsageBookTests.Report(3)]);
        _time.Advance(Interval);
        Assert.False(saver.SaveIfDue());
    }

    [Fact]
    public async Task ShutdownSavesWhatTheIntervalHeldBack()
    {
        var book = new UsageBook();
        UsageSaver saver = Saver(book, "acc-1");
        await saver.StartAsync(CancellationToken.None);
        book.RecordClient("acc-1", "client-a", [UsageBookTests.Report(6)]);

        await saver.StopAsync(CancellationToken.None);

        Assert.Equal(6, Saved().Accelerators.Single().Clients.Single().Models.Single().Inferences);
    }

    [Fact]
    public void AForgottenAcceleratorLeavesTheFileWithTheNextSave()
    {
        var book = new UsageBook();
        UsageSaver saver = Saver(book, "acc-1", "acc-2");
        book.RecordClient("acc-1", "client-a", [UsageBookTests.Report(1)]);
        book.RecordClient("acc-2", "client-a", [UsageBookTests.Report(1)]);
        Assert.True(saver.SaveIfChanged());

        book.Forget("acc-1");
        _time.Advance(Interval);
        Assert.True(saver.SaveIfDue());

        Assert.Equal(["acc-2"], Saved().Accelerators.Select(a => a.AcceleratorId));
    }

    [Fact]
    public void UsageOfAcceleratorsNoLongerAttachedIsDroppedAtLoadAndFromTheFile()
    {
        var book = new UsageBook();
        UsageSaver saver = Saver(book, "acc-1", "acc-2");
        book.RecordClient("acc-1", "client-a", [UsageBookTests.Report(1)]);
        book.RecordClient("acc-2", "client-a", [UsageBookTests.Report(2)]);
        Assert.True(saver.SaveIfChanged());

        // acc-1 was detached after the last usage save, then the broker stopped without another.
        var restored = new UsageBook();
        UsageSaver next = Saver(restored, "acc-2");

        Assert.Empty(restored.Get("acc-1").Clients);
        Assert.Equal(2, restored.Get("acc-2").Clients.Single().Inferences);
        Assert.True(next.SaveIfChanged());
        Assert.Equal(["acc-2"], Saved().Accelerators.Select(a => a.AcceleratorId));
    }

    [Theory]
    [InlineData("{\"version\": 1, \"accelerators\": [", "not valid JSON")]
    [InlineData("\0\0\0\0", "not valid JSON")]
    [InlineData("{\"version\": 99, \"accelerators\": []}", "version 99")]
    [InlineData("""{"version": 1, "accelerators": [{"accelerator_id": "acc-1", "agent": null, "agent_base": [], "retired_clients": [], "clients": [{"client_id": "c", "models": [{"model_id": "m", "inferences": 2, "failures": 0, "total": {"count": 3, "sum_seconds": 0.1, "min_seconds": 0.01, "max_seconds": 0.05, "bucket_indexes": [500], "bucket_counts": [3]}}]}]}]}""", "holds 3 runs but inferences is 2")]
    [InlineData("""{"version": 1, "accelerators": [{"accelerator_id": "acc-1", "agent": null, "agent_base": [], "retired_clients": [], "clients": [{"client_id": "c", "models": [{"model_id": "m", "inferences": 0, "failures": 0, "total": {"count": 1, "sum_seconds": 0.1, "min_seconds": 0.1, "max_seconds": 0.1, "bucket_indexes": [99999], "bucket_counts": [1]}}]}]}]}""", "acc-1")]
    [InlineData("""{"version": 1, "accelerators": [{"accelerator_id": "acc-1", "agent": null, "agent_base": [], "retired_clients": [], "clients": []}, {"accelerator_id": "acc-1", "agent": null, "agent_base": [], "retired_clients": [], "clients": []}]}""", "appears more than once")]
    public void AnUnusableUsageJsonIsSetAsideByTheImportWithAWarningAndTheBrokerStartsWithoutUsage(string content, string problem)
    {
        File.WriteAllText(FilePath, content);
        var book = new UsageBook();
        Database();

        UsageSaver saver = Saver(book, "acc-1");

        Assert.Empty(book.Get("acc-1").Clients);
        Assert.Empty(book.Get("acc-1").Agent);
        Assert.False(File.Exists(FilePath));
        string aside = Assert.Single(Directory.GetFiles(_directory, UsageFile.FileName + ".unusable-*"));
        Assert.Equal(UsageFile.FileName + ".unusable-20250101T120000Z", Path.GetFileName(aside));
        Assert.Equal(content, File.ReadAllText(aside));
        (_, LogLevel level, string message) = Assert.Single(_logs.Messages, m => m.Name == "UsageFileUnusable");
        Assert.Equal(LogLevel.Warning, level);
        Assert.Contains(problem, message, StringComparison.Ordinal);
        Assert.Contains(aside, message, StringComparison.Ordinal);

        // The broker goes on keeping usage in broker.db.
        book.RecordClient("acc-1", "client-a", [UsageBookTests.Report(1)]);
        Assert.True(saver.SaveIfChanged());
        Assert.Equal("acc-1", Saved().Accelerators.Single().AcceleratorId);
    }

    [Fact]
    public void AFailedSaveIsLoggedAndTriedAgainAfterTheInterval()
    {
        var book = new UsageBook();
        var store = new FailingUsageStore(new SqliteUsageStore(Database())) { Failing = true };
        UsageSaver saver = Saver(book, store, "acc-1");
        book.RecordClient("acc-1", "client-a", [UsageBookTests.Report(1)]);

        Assert.False(saver.SaveIfChanged());
        Assert.Contains(_logs.Events, e => e is ("UsageSaveFailed", LogLevel.Warning));

        store.Failing = false;
        Assert.False(saver.SaveIfDue());
        _time.Advance(Interval);
        Assert.True(saver.SaveIfDue());
        Assert.Single(Saved().Accelerators);
    }

    private UsageSaver Saver(UsageBook book, params string[] attached) => Saver(book, new SqliteUsageStore(Database()), attached);

    private UsageSaver Saver(UsageBook book, IUsageStore usage, params string[] attached)
    {
        var store = new InMemoryAttachmentStore();
        store.Save([.. attached.Select((id, ordinal) => AttachmentBookTests.Record("host-a", ordinal) with { Id = id })]);
        return new UsageSaver(
            book,
            usage,
            new AttachmentBook(store),
            new BrokerOptions { DataDir = _directory, UsageSaveInterval = Interval },
            _time,
            _loggers.CreateLogger<UsageSaver>());
    }

    private UsageDocument Saved() => Assert.IsType<UsageDocument>(new SqliteUsageStore(Database()).Read());

    // A fresh connection each time, as a restarted broker would open; all are closed at the end.
    private SqliteBrokerDatabase Database()
    {
        SqliteBrokerDatabase database = TestDatabase.Open(_directory, _loggers.CreateLogger("store"), _time);
        _databases.Add(database);
        return database;
    }

    private static string Json(UsageBook book) =>
        JsonSerializer.Serialize(book.Snapshot().Document, BrokerJsonContext.Default.UsageDocument);

    private static SliceUsage Slice(string sliceId, string incarnation, ModelUsage model)
    {
        var slice = new SliceUsage { SliceId = sliceId, Incarnation = incarnation };
        slice.Models.Add(model);
        return slice;
    }

    private static SliceState State(string sliceId) => new() { SliceId = sliceId, MemoryChargedBytes = 4096, ModelsResident = 1 };

    private sealed class FailingUsageStore(IUsageStore inner) : IUsageStore
    {
        public bool Failing { get; set; }

        public string Location => inner.Location;

        public UsageDocument? Read() => inner.Read();

        public void Write(UsageDocument document)
        {
            if (Failing)
            {
                throw new IOException("disk full");
            }

            inner.Write(document);
        }
    }
}
