using System.Security.Cryptography;
using AccelBroker.Agent;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>
/// A slice's memory budget on a real (unstarted) agent with TorchSharp on CPU: what loads are charged, which models
/// make room and when, transparent reloads, and refusals. Budgets are set in bytes around demo_mlp's charge of
/// 6432 bytes (its fp32 weights; no warm-up, so no measured peak), so the counts are exact.
/// </summary>
public sealed class SliceMemoryTests : IAsyncLifetime
{
    private const long Copy = 6432;

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "accelbroker-slicememory-" + Guid.NewGuid().ToString("N"));
    // Recency is the agent's clock: a fake one makes "used later" exact without sleeping. Each reading moves it on a
    // little, so time spent in an execution slot is never zero either.
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };
    private WebApplication _agent = null!;
    private ModelResidency _residency = null!;
    private string _sha256 = null!;

    public async Task InitializeAsync()
    {
        _agent = AgentHost.Build(
            new AgentOptions { Listen = "http://127.0.0.1:0", DataDirectory = _dataDir, MemoryBytes = 1L << 30 },
            configureServices: services => services.AddSingleton<TimeProvider>(_time));
        _residency = _agent.Services.GetRequiredService<ModelResidency>();
        byte[] bytes = await File.ReadAllBytesAsync(Fixtures.Path("demo_mlp.pt"));
        _sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using ModelUpload upload = _agent.Services.GetRequiredService<ModelStore>().BeginUpload(_sha256, bytes.Length);
        await upload.AppendAsync(bytes, CancellationToken.None);
        await upload.CompleteAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task ALoadIsChargedItsWeightsAndTheSliceKnowsWhatItHolds()
    {
        AcceleratorSlice slice = Slice(budget: 100_000);

        LoadModelResponse response = await LoadAsync(slice, "a");

        Assert.True(response.Loaded);
        Assert.Equal(Copy, response.ChargedBytes);
        Assert.Equal(Copy, response.SliceChargedBytes);
        Assert.Equal(100_000, response.SliceBudgetBytes);
        Assert.Empty(response.EvictedModelIds);
        SliceModelEntry entry = Assert.Single(slice.ModelsById());
        Assert.Equal((1L, Copy, true), (entry.LoadCount, entry.ChargedBytes, entry.Resident is not null));

        // Loading the same model again is not charged twice.
        LoadModelResponse again = await LoadAsync(slice, "a");
        Assert.False(again.Loaded);
        Assert.Equal(Copy, slice.ChargedBytes);
        Assert.Equal(1, slice.Loads);
    }

    [Fact]
    public async Task PassingTheThresholdUnloadsTheLeastRecentlyUsedIdleModelFirst()
    {
        // Threshold 90 % of 16000 = 14400: two copies (12864) fit, a third must make room.
        AcceleratorSlice slice = Slice(budget: 16_000);
        string a = (await LoadAsync(slice, "a")).ModelId;
        string b = (await LoadAsync(slice, "b")).ModelId;
        await RunAsync(slice, a); // a is now the more recently used one

        LoadModelResponse c = await LoadAsync(slice, "c");

        Assert.Equal([b], c.EvictedModelIds);
        Assert.Equal(2 * Copy, c.SliceChargedBytes);
        Assert.Equal([a, c.ModelId], Resident(slice));
        Assert.Equal(1, slice.Evictions);
        Assert.False(Entry(slice, b).Resident is not null);
    }

    [Fact]
    public async Task TheSlicesEvictionPolicyChoosesWhichIdleModelGoesAndIsOfferedNoRunningOne()
    {
        // Most recently used first: the opposite of the default, so the policy, not the slice, decided.
        var policy = new RecordingPolicy(idle => idle.OrderByDescending(e => e.LastUsedTicks));
        // Threshold 90 % of 24000 = 21600: three copies (19296) fit, a fourth must make room.
        AcceleratorSlice slice = Slice(budget: 24_000, policy);
        string a = (await LoadAsync(slice, "a")).ModelId;
        string b = (await LoadAsync(slice, "b")).ModelId;
        string c = (await LoadAsync(slice, "c")).ModelId;
        await RunAsync(slice, a);
        _time.Advance(TimeSpan.FromSeconds(1));
        LoadedModel running = await _residency.AcquireAsync(slice, c, CancellationToken.None); // most recent, but running
        try
        {
            LoadModelResponse d = await LoadAsync(slice, "d");

            Assert.Equal([a], d.EvictedModelIds);
            Assert.Equal([b, c, d.ModelId], Resident(slice));
            Assert.Equal([a, b], Assert.Single(policy.Offered));
        }
        finally
        {
            running.Release();
        }
    }

    [Fact]
    public async Task AnEvictedModelReloadsOnItsNextRunWithoutAnError()
    {
        AcceleratorSlice slice = Slice(budget: 16_000);
        string a = (await LoadAsync(slice, "a")).ModelId;
        string b = (await LoadAsync(slice, "b")).ModelId;
        Assert.Equal([a], (await LoadAsync(slice, "c")).EvictedModelIds);

        LoadedModel reloaded = await _residency.AcquireAsync(slice, a, CancellationToken.None);
        reloaded.Release();

        Assert.Same(reloaded, Entry(slice, a).Resident);
        Assert.Equal(2, Entry(slice, a).LoadCount);
        Assert.Null(Entry(slice, b).Resident); // b was the least recently used then
        Assert.Equal(4, slice.Loads);
        Assert.Equal(2, slice.Evictions);
        Assert.True(slice.ChargedBytes <= slice.ThresholdBytes);
    }

    [Fact]
    public async Task AModelThatIsExecutingIsNeverEvicted()
    {
        AcceleratorSlice slice = Slice(budget: 16_000);
        string a = (await LoadAsync(slice, "a")).ModelId;
        string b = (await LoadAsync(slice, "b")).ModelId;
        LoadedModel running = await _residency.AcquireAsync(slice, a, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(20));
        LoadedModel runningB = await _residency.AcquireAsync(slice, b, CancellationToken.None); // b's run started last
        try
        {
            // Both others execute: a third copy would take the slice to 19296 of 16000 bytes.
            DomainException error = await Assert.ThrowsAsync<DomainException>(() => LoadAsync(slice, "c"));

            Assert.Equal(DomainErrorKind.ResourceExhausted, error.Kind);
            Assert.Contains($"needs {Copy} bytes", error.Message);
            Assert.Contains($"has {16_000 - (2 * Copy)} of its 16000 bytes available", error.Message);
            Assert.Equal([a, b], Resident(slice));
            Assert.Equal(0, slice.Evictions);
            Assert.Equal(2, slice.ModelCount);
        }
        finally
        {
            running.Release();
            runningB.Release();
        }

        // Once both are idle, a, whose run started first, is the least recently used and makes room.
        Assert.Equal([a], (await LoadAsync(slice, "c")).EvictedModelIds);
    }

    [Fact]
    public async Task AModelLargerThanTheSliceIsRefusedAndOtherModelsAreUntouched()
    {
        AcceleratorSlice slice = Slice(budget: 10_000);
        string a = (await LoadAsync(slice, "a")).ModelId;

        // A second copy cannot fit beside a (12864 > 10000) without evicting it, so a goes: the budget holds.
        Assert.Equal([a], (await LoadAsync(slice, "b")).EvictedModelIds);

        AcceleratorSlice small = Slice(budget: 6_000);
        DomainException error = await Assert.ThrowsAsync<DomainException>(() => LoadAsync(small, "a"));

        Assert.Equal(DomainErrorKind.ResourceExhausted, error.Kind);
        // Its storages alone pass the budget: refused from the archive, before libtorch allocates anything.
        Assert.Contains($"needs {Copy} bytes (its storage records, uncompressed, before loading) but slice 'small-6000' has 6000 of its 6000 bytes available", error.Message);
        Assert.Equal(0, small.ModelCount);
        Assert.Equal(0, small.ChargedBytes);
        Assert.Equal(1, slice.ResidentCount);
    }

    [Fact]
    public async Task ASmallerModelRefusedOnAFullSliceEvictsNothing()
    {
        // 12000 bytes: a second copy beside a running one would need 12864.
        AcceleratorSlice slice = Slice(budget: 12_000);
        string a = (await LoadAsync(slice, "a")).ModelId;
        LoadedModel running = await _residency.AcquireAsync(slice, a, CancellationToken.None);
        try
        {
            DomainException error = await Assert.ThrowsAsync<DomainException>(() => LoadAsync(slice, "b"));
            Assert.Equal(DomainErrorKind.ResourceExhausted, error.Kind);
        }
        finally
        {
            running.Release();
        }

        Assert.Equal(0, slice.Evictions);
        Assert.Same(running, Entry(slice, a).Resident);
        Assert.Equal(1, slice.ModelCount);
    }

    [Fact]
    public async Task OverTheThresholdButWithinTheBudgetNothingIdleMeansTheLoadStillFits()
    {
        // 13000 bytes, threshold 11700: with a running there is nothing to evict, but 12864 fits the budget.
        AcceleratorSlice slice = Slice(budget: 13_000);
        string a = (await LoadAsync(slice, "a")).ModelId;
        LoadedModel running = await _residency.AcquireAsync(slice, a, CancellationToken.None);
        try
        {
            LoadModelResponse b = await LoadAsync(slice, "b");

            Assert.Empty(b.EvictedModelIds);
            Assert.Equal(2 * Copy, b.SliceChargedBytes);
        }
        finally
        {
            running.Release();
        }
    }

    [Fact]
    public async Task AnUnloadedModelIsForgottenAndARunOfItIsNotFound()
    {
        AcceleratorSlice slice = Slice(budget: 100_000);
        string a = (await LoadAsync(slice, "a")).ModelId;

        await _residency.UnloadAsync(slice, a, CancellationToken.None);

        Assert.Equal(0, slice.ModelCount);
        Assert.Equal(0, slice.ChargedBytes);
        DomainException error = await Assert.ThrowsAsync<DomainException>(async () => await _residency.AcquireAsync(slice, a, CancellationToken.None));
        Assert.Equal(DomainErrorKind.NotFound, error.Kind);
    }

    [Theory]
    [InlineData("has space", 0, 0, "alias must be")]
    [InlineData("", 4097, 0, "max_batch_size must be between 0 and 4096")]
    [InlineData("", 8, 1_000_001, "max_delay_micros must be between 0 and 1000000")]
    [InlineData("", -1, 0, "max_batch_size must be between 0 and 4096")]
    public async Task BadLoadOptionsAreInvalidArgumentAndLoadNothing(string alias, int maxBatch, long delayMicros, string expected)
    {
        AcceleratorSlice slice = Slice(budget: 100_000);
        var request = new LoadModelRequest { SliceId = slice.Id, Sha256 = _sha256, Alias = alias };
        if (maxBatch != 0 || delayMicros != 0)
        {
            request.Batching = new BatchingConfig { MaxBatchSize = maxBatch, MaxDelayMicros = delayMicros };
        }

        DomainException error = await Assert.ThrowsAsync<DomainException>(() => _residency.LoadAsync(slice, request, CancellationToken.None));

        Assert.Equal(DomainErrorKind.InvalidInput, error.Kind);
        Assert.Contains(expected, error.Message);
        Assert.Equal(0, slice.ModelCount);
    }

    [Fact]
    public async Task ALoadWaitsForAnExecutionSlotAndItsTimeIsChargedToItsSlice()
    {
        // Assigned through the registry: the scheduler keeps the time of assigned slices only.
        var registry = _agent.Services.GetRequiredService<SliceRegistry>();
        registry.Assign(new SliceAssignment { SliceId = "assigned", MemoryBytes = 100_000, ComputeShare = 0.5 });
        AcceleratorSlice slice = registry.Get("assigned");
        var scheduler = _agent.Services.GetRequiredService<ComputeScheduler>();
        // The slice's worker process starts first, outside any slot: only the load itself queues.
        await _agent.Services.GetRequiredService<SliceWorkers>().For(slice.Id).GetAsync(CancellationToken.None);
        Task<LoadModelResponse> load;
        using (ComputeLease otherSlicesRun = await scheduler.AcquireAsync("another-slice", 0.5, CancellationToken.None))
        {
            load = LoadAsync(slice, "a");

            // The agent's one slot is taken: the load queues for it like a run and loads nothing meanwhile.
            Assert.Equal(1, scheduler.UsageOf(slice.Id).Waiting);
            await Task.Delay(100);
            Assert.False(load.IsCompleted);
            Assert.Equal(0, slice.ResidentCount);
        }

        LoadModelResponse response = await load.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(response.Loaded);
        Assert.True(scheduler.UsageOf(slice.Id).SecondsUsed > 0, "the load's time is charged to its slice");
    }

    private static AcceleratorSlice Slice(long budget, IEvictionPolicy? eviction = null) =>
        new(new SliceAssignment { SliceId = budget < Copy ? $"small-{budget}" : $"slice-{budget}", MemoryBytes = budget, ComputeShare = 0.5 }, evictionThreshold: 0.9, eviction);

    private Task<LoadModelResponse> LoadAsync(AcceleratorSlice slice, string alias)
    {
        // Each load later than the last, as they would be: recency follows the order of the calls.
        _time.Advance(TimeSpan.FromSeconds(1));
        return _residency.LoadAsync(slice, new LoadModelRequest { SliceId = slice.Id, Sha256 = _sha256, Alias = alias }, CancellationToken.None);
    }

    private async Task RunAsync(AcceleratorSlice slice, string modelId)
    {
        // Later than the loads, so recency is unambiguous.
        _time.Advance(TimeSpan.FromSeconds(1));
        LoadedModel model = await _residency.AcquireAsync(slice, modelId, CancellationToken.None);
        model.Release();
    }

    private static SliceModelEntry Entry(AcceleratorSlice slice, string modelId) =>
        slice.TryGetModel(modelId, out SliceModelEntry? entry) ? entry : throw new Xunit.Sdk.XunitException($"slice serves no model '{modelId}'");

    private static string[] Resident(AcceleratorSlice slice) => [.. slice.ModelsById().Where(e => e.Resident is not null).Select(e => e.ModelId)];

    private sealed class RecordingPolicy(Func<IReadOnlyCollection<SliceModelEntry>, IEnumerable<SliceModelEntry>> order) : IEvictionPolicy
    {
        public List<string[]> Offered { get; } = [];

        public IEnumerable<SliceModelEntry> Order(IReadOnlyCollection<SliceModelEntry> idle)
        {
            Offered.Add([.. idle.Select(e => e.ModelId).Order(StringComparer.Ordinal)]);
            return order(idle);
        }
    }
}
