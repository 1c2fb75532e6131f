using System.Diagnostics;
using System.Globalization;
using AccelBroker.Agent.Isolation;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Isolation.Corpus;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Isolation;

/// <summary>
/// Issue 9: models that crash libtorch must cost only the slice that loads them. Each case uploads a mutant to a
/// victim slice through the public client, and the agent must answer with a documented status (load: OK,
/// InvalidArgument or ResourceExhausted; run: those or Internal, the status of a run that crashed its worker) while a
/// neighbour slice keeps answering correctly. Slices run in worker processes, so a mutant that crashes libtorch
/// takes only its slice's worker down.
/// </summary>
/// <remarks>
/// ACCEL_CRASH_CORPUS_CASES (default 300) sets the number of corpus cases, ACCEL_CRASH_CORPUS_MINUTES (default 10)
/// the time after which the corpus stops (it fails if fewer than <see cref="MinimumCases"/> were done by then), and
/// ACCEL_CRASH_CORPUS_SEED (default 9) the seed. Every case is appended to ACCEL_CRASH_CORPUS_LOG (default
/// accel-crash-corpus.log in the temp directory) before it starts, so the last line names the case that killed a
/// host. The long run (not in CI), at least 10,000 cases:
/// <code>
/// ACCEL_CRASH_CORPUS_CASES=10000 ACCEL_CRASH_CORPUS_MINUTES=240 dotnet test tests/AccelBroker.Tests --filter FullyQualifiedName~CrashCorpusTests
/// </code>
/// </remarks>
public sealed class CrashCorpusTests : IClassFixture<ClusterFixture>
{
    private const int MinimumCases = 50;

    // Where corpus mutants and the bombs go: large enough that no healthy model is refused for memory.
    private const string VictimSliceType = "eia2.medium";

    private static readonly StatusCode[] LoadStatuses = [StatusCode.OK, StatusCode.InvalidArgument, StatusCode.ResourceExhausted];
    private static readonly StatusCode[] RunStatuses = [StatusCode.OK, StatusCode.InvalidArgument, StatusCode.ResourceExhausted, StatusCode.Internal];

    private readonly TestCluster _cluster;
    private readonly ITestOutputHelper _output;

    public CrashCorpusTests(ClusterFixture fixture, ITestOutputHelper output)
    {
        _cluster = fixture.Cluster;
        _output = output;
    }

    [Fact]
    public async Task EveryCorpusCaseEndsInADocumentedStatusAndTheNeighbourKeepsServing()
    {
        int cases = Setting("ACCEL_CRASH_CORPUS_CASES", 300);
        TimeSpan bound = TimeSpan.FromMinutes(Setting("ACCEL_CRASH_CORPUS_MINUTES", 10.0));
        int seed = Setting("ACCEL_CRASH_CORPUS_SEED", 9);
        await using NeighbourSlice neighbour = await NeighbourSlice.StartAsync(_cluster);
        (string host, int ordinal) = await AttachVictimAsync();
        using var log = new StreamWriter(LogPath(), append: false) { AutoFlush = true };
        var failures = new List<string>();
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        int done = 0;

        foreach (MutatedModel mutant in new ModelMutator().Corpus(seed, cases))
        {
            if (clock.Elapsed > bound)
            {
                break;
            }

            log.WriteLine($"case {done}: {mutant}");
            await using (AcceleratorSession session = await OpenVictimAsync(host, ordinal))
            {
                (string outcome, string? failure) = await RunCaseAsync(session, mutant);
                outcomes[$"{mutant.Kind}: {outcome}"] = outcomes.GetValueOrDefault($"{mutant.Kind}: {outcome}") + 1;
                if (failure is not null)
                {
                    failures.Add($"case {done}, {mutant}: {failure}");
                }
            }

            await neighbour.AssertServesAsync($"case {done}, {mutant}");
            done++;
        }

        _output.WriteLine($"{done} of {cases} cases in {clock.Elapsed.TotalSeconds:0} s (seed {seed}):");
        foreach ((string outcome, int count) in outcomes)
        {
            _output.WriteLine($"  {count,5}  {outcome}");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} cases ended in an undocumented status:\n" + string.Join('\n', failures.Take(50)));
        Assert.True(done >= Math.Min(cases, MinimumCases), $"only {done} cases in {bound}: fewer than the minimum of {Math.Min(cases, MinimumCases)}");
    }

    // libtorch itself loads this model and runs it on zeros; a positive input reads 256 MiB past a 16-byte record.
    [Fact]
    public async Task ARunThatCrashesIsInternalAndItsSliceKeepsServingEveryModel()
    {
        await using NeighbourSlice neighbour = await NeighbourSlice.StartAsync(_cluster);
        (string host, int ordinal) = await AttachVictimAsync();
        await using AcceleratorSession session = await OpenVictimAsync(host, ordinal);
        RemoteModel crasher = await session.LoadModelAsync(SpecialModels.CrashOnRunPath, new ModelLoadOptions { WarmupInputs = [(TensorDataType.Float32, [1, 4])] });

        RpcException crash = await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(crasher, [Tensor.FromArray([1f, 2f, 3f, 4f], 1, 4)]));

        Assert.Equal(StatusCode.Internal, crash.StatusCode);
        Assert.Matches("(?i)crash|signal|SIGSEGV", crash.Status.Detail);
        await neighbour.AssertServesAsync("the crashing run");
        RemoteModel mlp = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
        ModelOutput mlpOutput = await session.RunAsync(mlp, [Fixtures.Npy("demo_mlp.input0.npy")]);
        Assert.Equal([1L, 8L], mlpOutput[0].Shape);
        ModelOutput zero = await session.RunAsync(crasher, [Tensor.Zeros(TensorDataType.Float32, 1, 4)]);
        Assert.Equal(new float[4], zero[0].ToSingleArray());
    }

    [Fact]
    public async Task AShortStorageNeverShowsTheNeighboursWeights()
    {
        await using NeighbourSlice neighbour = await NeighbourSlice.StartAsync(_cluster);
        (string host, int ordinal) = await AttachVictimAsync();
        (string Name, byte[] Bytes, Tensor Input)[] shortModels =
        [
            ("demo_mlp with data/0 cut to 16 bytes", SpecialModels.ShortStorageMlp(), Fixtures.Npy("demo_mlp.input0.npy")),
            ("hazards/short_storage.pt", await File.ReadAllBytesAsync(SpecialModels.ShortStoragePath), Tensor.Zeros(TensorDataType.Float32, 1, 4)),
        ];

        foreach ((string name, byte[] bytes, Tensor input) in shortModels)
        {
            await using AcceleratorSession session = await OpenVictimAsync(host, ordinal);
            RemoteModel model;
            try
            {
                model = await session.LoadModelAsync(bytes);
            }
            catch (RpcException refused) when (refused.StatusCode is StatusCode.InvalidArgument or StatusCode.ResourceExhausted)
            {
                _output.WriteLine($"{name}: refused, {refused.StatusCode}: {refused.Status.Detail}");
                await neighbour.AssertServesAsync(name);
                continue;
            }

            // Contained: the model executes in its own slice's process, so reads past its buffers find only that slice.
            Assert.NotEqual(Worker(neighbour.SliceId).ProcessId, Worker(session.Accelerator.Id).ProcessId);
            for (int run = 0; run < 5; run++)
            {
                ModelOutput output;
                try
                {
                    output = await session.RunAsync(model, [input]);
                }
                catch (RpcException failed) when (RunStatuses.Contains(failed.StatusCode))
                {
                    _output.WriteLine($"{name}: run {run} failed, {failed.StatusCode}: {failed.Status.Detail}");
                    continue;
                }

                Assert.All(output, tensor => Assert.False(SpecialModels.ContainsMarker(tensor.Data.Span), $"{name}'s output holds the neighbour's weights"));
            }

            await neighbour.AssertServesAsync(name);
        }
    }

    [Fact]
    public async Task A4GiBBombIsResourceExhaustedBeforeItsMemoryIsTaken()
    {
        await using NeighbourSlice neighbour = await NeighbourSlice.StartAsync(_cluster);
        (string host, int ordinal) = await AttachVictimAsync();
        await using AcceleratorSession session = await OpenVictimAsync(host, ordinal);
        MutatedModel bomb = SpecialModels.DecompressionBomb(SpecialModels.Bomb4GiB);
        long peakBefore = WorkerPeakResidentBytes(session);

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => session.LoadModelAsync(bomb.Bytes));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("before loading", error.Status.Detail, StringComparison.Ordinal);
        long grew = WorkerPeakResidentBytes(session) - peakBefore;
        Assert.True(grew < SpecialModels.Bomb256MiB, $"the slice worker's peak RSS grew by {grew} bytes while refusing a {bomb.Bytes.Length}-byte bomb");
        Assert.Empty((await ListAsync(session)).Models);
        await neighbour.AssertServesAsync("the 4 GiB bomb");
    }

    [Fact]
    public async Task A256MiBBombIsChargedWhatItInflatesToAndUnloadingItGivesThatBack()
    {
        await using NeighbourSlice neighbour = await NeighbourSlice.StartAsync(_cluster);
        (string host, int ordinal) = await AttachVictimAsync();
        await using AcceleratorSession session = await OpenVictimAsync(host, ordinal);
        MutatedModel bomb = SpecialModels.DecompressionBomb(SpecialModels.Bomb256MiB);
        long chargedBefore = (await ListAsync(session)).ChargedBytes;
        long residentBefore = SliceWorkerResidentBytes(session);

        RemoteModel model = await session.LoadModelAsync(bomb.Bytes);

        Assert.True(model.ChargedBytes >= SpecialModels.Bomb256MiB, $"a model that inflates to 256 MiB was charged {model.ChargedBytes} bytes");
        Assert.True((await ListAsync(session)).ChargedBytes - chargedBefore >= SpecialModels.Bomb256MiB);
        await session.UnloadModelAsync(model);
        Assert.Equal(chargedBefore, (await ListAsync(session)).ChargedBytes);
        // The worker frees the module when the unload reaches it, just after the call returns: bounded wait.
        long after = SliceWorkerResidentBytes(session);
        for (int i = 0; i < 100 && after - residentBefore >= SpecialModels.Bomb256MiB / 2; i++)
        {
            await Task.Delay(50);
            after = SliceWorkerResidentBytes(session);
        }

        Assert.True(after - residentBefore < SpecialModels.Bomb256MiB / 2, $"the slice's worker still holds {after - residentBefore} more bytes after the unload");

        await neighbour.AssertServesAsync("the 256 MiB bomb");
    }

    // One case: load, run once on the source model's committed inputs if it loaded, unload. Returns the outcome for the
    // summary, and why it is wrong when it is.
    private static async Task<(string Outcome, string? Failure)> RunCaseAsync(AcceleratorSession session, MutatedModel mutant)
    {
        RemoteModel model;
        try
        {
            model = await session.LoadModelAsync(mutant.Bytes);
        }
        catch (RpcException error)
        {
            string outcome = $"load {error.StatusCode}";
            return LoadStatuses.Contains(error.StatusCode) ? (outcome, null) : (outcome, $"load: {error.StatusCode}: {error.Status.Detail}");
        }

        string run;
        string? failure = null;
        try
        {
            await session.RunAsync(model, SourceInputs(mutant.Source));
            run = "loaded, run OK";
        }
        catch (RpcException error)
        {
            run = $"loaded, run {error.StatusCode}";
            failure = RunStatuses.Contains(error.StatusCode) ? null : $"run: {error.StatusCode}: {error.Status.Detail}";
        }

        try
        {
            await session.UnloadModelAsync(model);
        }
        catch (RpcException error)
        {
            failure ??= $"unload: {error.StatusCode}: {error.Status.Detail}";
        }

        return (run, failure);
    }

    private static Tensor[] SourceInputs(string model) =>
        [.. Enumerable.Range(0, 4).Select(i => $"{model}.input{i}.npy").Where(f => File.Exists(Fixtures.Path(f))).Select(Fixtures.Npy)];

    private async Task<(string Host, int Ordinal)> AttachVictimAsync()
    {
        string host = "victim-" + Guid.NewGuid().ToString("N")[..8];
        Protocol.V1.Accelerator accelerator = await _cluster.AttachAsync(host, VictimSliceType);
        return (host, accelerator.Ordinal);
    }

    // A session per case, as a client that reconnects after a failure would; usage reports would only add traffic.
    private Task<AcceleratorSession> OpenVictimAsync(string host, int ordinal) =>
        _cluster.OpenSessionAsync(host, ordinal, new AcceleratorSessionOptions { UsageReportInterval = TimeSpan.Zero, CallTimeout = TimeSpan.FromMinutes(2) });

    private Task<ListModelsResponse> ListAsync(AcceleratorSession session) =>
        _cluster.AgentClient.ListModelsAsync(new ListModelsRequest { SliceId = session.Accelerator.Id }, deadline: TestCluster.Deadline()).ResponseAsync;

    /// <summary>The most memory the worker process of <paramref name="session"/>'s slice has held (VmHWM).</summary>
    private long WorkerPeakResidentBytes(AcceleratorSession session) =>
        Worker(session.Accelerator.Id).PeakResidentBytes() ?? throw new InvalidOperationException("the slice's worker has no /proc entry");

    /// <summary>The resident memory of the worker process that runs <paramref name="session"/>'s slice.</summary>
    private long SliceWorkerResidentBytes(AcceleratorSession session) =>
        Worker(session.Accelerator.Id).ResidentBytes() ?? throw new InvalidOperationException("the slice's worker has no /proc entry");

    private WorkerProcess Worker(string sliceId) => _cluster.SliceWorkerOf(sliceId).GetAsync(CancellationToken.None).Result;

    private static string LogPath() =>
        Environment.GetEnvironmentVariable("ACCEL_CRASH_CORPUS_LOG") is { Length: > 0 } path
            ? path
            : Path.Combine(Path.GetTempPath(), "accel-crash-corpus.log");

    private static T Setting<T>(string name, T fallback)
        where T : IParsable<T> =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text ? T.Parse(text, CultureInfo.InvariantCulture) : fallback;
}
