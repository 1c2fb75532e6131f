using AccelBroker.Cli.Commands;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Probing;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Cli;

/// <summary>
/// The max-models probe's decisions against a simulated slice (it evicts least recently used first past its
/// threshold, as the agent does): when it stops, what it counts, and that it leaves nothing behind.
/// </summary>
public sealed class MaxModelsProbeTests
{
    private const string Mine = "mine";

    [Fact]
    public async Task ItStopsBeforeACopyAsLargeAsTheLargestSoFarWouldPassTheThreshold()
    {
        var slice = new SimulatedSlice(threshold: 950, [300, 100, 100, 100, 100]);
        slice.Preload(Mine, 100);
        var reported = new List<(int Copies, long Bytes, long Room)>();

        MaxModelsResult result = await Probe(slice, firstCopyEstimate: 50).RunAsync((c, b, r) => reported.Add((c, b, r)), CancellationToken.None);

        // 100 + 300 + 3 x 100 = 700: one more copy of 100 bytes would fit, but one as large as the first would not.
        Assert.Equal([300L, 100L, 100L, 100L], result.CopyCharges);
        Assert.Equal((MaxModelsProbe.StopThreshold, 700L, 300L), (result.StoppedBecause, result.ChargedAtStopBytes, result.NextCopyBytes));
        Assert.Equal((100L, 1, 950L, 1900L), (result.OtherModelsBytes, result.OtherModels, result.ThresholdBytes, result.BudgetBytes));
        Assert.Equal([(1, 300L, 850L), (2, 400L, 850L), (3, 500L, 850L), (4, 600L, 850L)], reported);
        Assert.Equal(result.LoadedModelIds, result.UnloadedModelIds);
        Assert.Equal([Mine], slice.Resident);
        Assert.Empty(result.UnloadFailures);
    }

    [Fact]
    public async Task AFirstCopyEstimatedPastTheThresholdIsNotLoaded()
    {
        var slice = new SimulatedSlice(threshold: 1000, [50]);
        slice.Preload(Mine, 900);

        MaxModelsResult result = await Probe(slice, firstCopyEstimate: 101).RunAsync(null, CancellationToken.None);

        Assert.Equal((MaxModelsProbe.StopThreshold, 0, 0), (result.StoppedBecause, result.CopyCharges.Count, slice.Loads));
        Assert.Equal((900L, 101L), (result.ChargedAtStopBytes, result.NextCopyBytes));
    }

    [Fact]
    public async Task ACopyThatEvictsStopsTheProbeIsNotCountedAndIsUnloaded()
    {
        // The second copy comes out larger than the first and the slice makes room by evicting the user's model.
        var slice = new SimulatedSlice(threshold: 1000, [300, 700]);
        slice.Preload(Mine, 100);

        MaxModelsResult result = await Probe(slice).RunAsync(null, CancellationToken.None);

        Assert.Equal(MaxModelsProbe.StopEvicted, result.StoppedBecause);
        Assert.Equal([300L], result.CopyCharges);
        Assert.Equal([Mine], result.EvictedModelIds);
        Assert.Equal(700, result.NextCopyBytes);
        Assert.Equal(2, result.LoadedModelIds.Count);
        Assert.Equal(result.LoadedModelIds, result.UnloadedModelIds);
        Assert.Empty(slice.Resident);
    }

    [Fact]
    public async Task ARefusedCopyStopsTheProbeWithTheAgentsReason()
    {
        var slice = new SimulatedSlice(threshold: 1000, [300, 300]) { FailLoad = i => i == 1 ? Rpc(StatusCode.ResourceExhausted, "needs 300 bytes") : null };

        MaxModelsResult result = await Probe(slice).RunAsync(null, CancellationToken.None);

        Assert.Equal((MaxModelsProbe.StopRefused, "needs 300 bytes"), (result.StoppedBecause, result.RefusedBecause));
        Assert.Equal([300L], result.CopyCharges);
        Assert.Single(result.UnloadedModelIds);
        Assert.Empty(slice.Resident);
    }

    [Fact]
    public async Task AnInterruptionLetsTheLoadUnderWayFinishThenStopsAndUnloads()
    {
        using var interrupt = new CancellationTokenSource();
        var slice = new SimulatedSlice(threshold: 10_000, [100, 100, 100, 100])
        {
            DuringLoad = i =>
            {
                if (i == 1)
                {
                    interrupt.Cancel();
                }
            },
        };

        MaxModelsResult result = await Probe(slice).RunAsync(null, interrupt.Token);

        Assert.Equal(MaxModelsProbe.StopInterrupted, result.StoppedBecause);
        Assert.Equal([100L, 100L], result.CopyCharges);
        Assert.Equal(2, slice.Loads);
        Assert.All(slice.LoadTokens, token => Assert.False(token.CanBeCanceled));
        Assert.Equal(2, result.UnloadedModelIds.Count);
        Assert.Empty(slice.Resident);
    }

    [Fact]
    public async Task AFailedLoadUnloadsTheCopiesThenSurfacesTheError()
    {
        var slice = new SimulatedSlice(threshold: 10_000, [100, 100, 100]) { FailLoad = i => i == 2 ? Rpc(StatusCode.InvalidArgument, "warm-up run failed") : null };
        slice.Preload(Mine, 100);

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => Probe(slice).RunAsync(null, CancellationToken.None));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal([Mine], slice.Resident);
    }

    [Fact]
    public async Task AFailedLoadWhoseCopiesCannotBeUnloadedSaysBoth()
    {
        var slice = new SimulatedSlice(threshold: 10_000, [100, 100])
        {
            FailLoad = i => i == 1 ? Rpc(StatusCode.InvalidArgument, "warm-up run failed") : null,
            FailUnload = _ => Rpc(StatusCode.Unavailable, "agent gone"),
        };

        CliException error = await Assert.ThrowsAsync<CliException>(() => Probe(slice).RunAsync(null, CancellationToken.None));

        Assert.Equal("InvalidArgument: warm-up run failed; and 1 copies could not be unloaded: copy-p-0: Unavailable: agent gone", error.Message);
    }

    [Fact]
    public async Task KeepLeavesEveryCopyAndMaxCopiesBoundsThem()
    {
        var slice = new SimulatedSlice(threshold: 10_000, [100, 100, 100]);

        MaxModelsResult result = await Probe(slice, maxCopies: 2, keep: true).RunAsync(null, CancellationToken.None);

        Assert.Equal((MaxModelsProbe.StopMaxCopies, 2, true), (result.StoppedBecause, result.CopyCharges.Count, result.Kept));
        Assert.Equal(200, result.ChargedAtStopBytes);
        Assert.Empty(result.UnloadedModelIds);
        Assert.Equal(["copy-p-0", "copy-p-1"], slice.Resident);
    }

    [Fact]
    public async Task ACopyAlreadyGoneCountsAsUnloadedAndOtherUnloadFailuresAreReported()
    {
        var slice = new SimulatedSlice(threshold: 10_000, [100, 100])
        {
            FailUnload = id => id == "copy-p-0" ? Rpc(StatusCode.NotFound, "unknown model") : Rpc(StatusCode.Unavailable, "agent gone"),
        };

        MaxModelsResult result = await Probe(slice, maxCopies: 2).RunAsync(null, CancellationToken.None);

        Assert.Equal(["copy-p-0"], result.UnloadedModelIds);
        Assert.Equal(["copy-p-1: Unavailable: agent gone"], result.UnloadFailures);
    }

    [Fact]
    public void TheFirstCopyIsEstimatedFromItsFileAtItsPrecisionPlusItsWarmUpInputs()
    {
        (TensorDataType, long[])[] warmup = [(TensorDataType.Float32, [2, 16]), (TensorDataType.Int64, [1, 8])];

        Assert.Equal(1000 + 128 + 64, ModelMemoryEstimate.BeforeLoad(1000, ModelPrecision.Fp32, warmup));
        Assert.Equal(500 + 128 + 64, ModelMemoryEstimate.BeforeLoad(1000, ModelPrecision.Fp16, warmup));
        Assert.Equal(500, ModelMemoryEstimate.BeforeLoad(1000, ModelPrecision.Bf16, []));
    }

    private static MaxModelsProbe Probe(SimulatedSlice slice, long firstCopyEstimate = 1, int maxCopies = 100, bool keep = false) =>
        new(slice, "p-", maxCopies, firstCopyEstimate, keep);

    private static RpcException Rpc(StatusCode code, string detail) => new(new Status(code, detail));

    /// <summary>A slice with a threshold at half its budget that evicts least recently loaded models first, as the agent does.</summary>
    private sealed class SimulatedSlice(long threshold, long[] charges) : IProbeSlice
    {
        private readonly List<(string Id, long Bytes)> _resident = [];

        public Func<int, Exception?>? FailLoad { get; init; }

        public Func<string, Exception?>? FailUnload { get; init; }

        public Action<int>? DuringLoad { get; init; }

        public int Loads { get; private set; }

        public List<CancellationToken> LoadTokens { get; } = [];

        public IReadOnlyList<string> Resident => [.. _resident.Select(m => m.Id)];

        public void Preload(string id, long bytes) => _resident.Add((id, bytes));

        public Task<ListModelsResponse> ListModelsAsync(CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var response = new ListModelsResponse { BudgetBytes = threshold * 2, ThresholdBytes = threshold, ChargedBytes = _resident.Sum(m => m.Bytes), Device = "cpu" };
            response.Models.AddRange(_resident.Select(m => new SliceModel { ModelId = m.Id, ChargedBytes = m.Bytes, Resident = true }));
            return Task.FromResult(response);
        }

        public Task<LoadedCopy> LoadCopyAsync(string alias, CancellationToken cancellationToken)
        {
            int index = LoadTokens.Count;
            LoadTokens.Add(cancellationToken);
            DuringLoad?.Invoke(index);
            if (FailLoad?.Invoke(index) is { } failure)
            {
                throw failure;
            }

            long charge = charges[index];
            List<string> evicted = [];
            while (_resident.Count > 0 && _resident.Sum(m => m.Bytes) + charge > threshold)
            {
                evicted.Add(_resident[0].Id);
                _resident.RemoveAt(0);
            }

            string id = "copy-" + alias;
            _resident.Add((id, charge));
            Loads++;
            return Task.FromResult(new LoadedCopy(id, charge, evicted, _resident.Sum(m => m.Bytes)));
        }

        public Task UnloadAsync(string modelId, CancellationToken cancellationToken)
        {
            if (FailUnload?.Invoke(modelId) is { } failure)
            {
                throw failure;
            }

            _resident.RemoveAll(m => m.Id == modelId);
            return Task.CompletedTask;
        }
    }
}
