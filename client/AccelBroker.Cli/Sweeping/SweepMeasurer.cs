using AccelBroker.Cli.Load;
using AccelBroker.Cli.Measuring;
using AccelBroker.Client;
using Grpc.Core;

namespace AccelBroker.Cli.Sweeping;

/// <summary>
/// Runs a sweep's grid through one session: per precision the model is loaded once (and unloaded at the end unless
/// the slice held it before), per batch the inputs are built, per concurrency the load engine runs a closed loop.
/// An interruption stops at once: the cell under way is dropped, the cells measured are kept.
/// </summary>
internal sealed class SweepMeasurer(AcceleratorSession session, string modelPath, Func<int, Tensor[]> inputsFor, int warmup, StopRule stop, double pricePerHour, LoadEngine engine, bool checkAccuracy = false)
{
    private static readonly TimeSpan UnloadLimit = TimeSpan.FromSeconds(30);

    /// <summary>Models this sweep loaded that the slice did not hold before: what must be unloaded.</summary>
    public List<RemoteModel> Loaded { get; } = [];

    public string Device { get; private set; } = "";

    public List<GeneratorCpu> Cpu { get; } = [];

    /// <summary>With <c>--check-accuracy</c>: each precision loaded against fp32, on the first batch's inputs.</summary>
    public List<AccuracyResult> Accuracy { get; } = [];

    /// <summary>Measures every cell in order; <paramref name="cellStarting"/> is told each one (index, cell name).</summary>
    public async Task<(List<SweepCell> Cells, bool Interrupted)> RunAsync(SweepGrid grid, IReadOnlySet<string> heldBefore, Action<int, string>? cellStarting, Action<LoadProgress>? progress, CancellationToken cancellationToken)
    {
        var cells = new List<SweepCell>();
        int index = 0;
        try
        {
            foreach (string precision in grid.Precisions)
            {
                RemoteModel model;
                try
                {
                    model = await session.LoadModelAsync(modelPath, new ModelLoadOptions { Precision = Infrastructure.CommonOptions.PrecisionOf(precision) }, cancellationToken);
                }
                catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    foreach (int batch in grid.Batches)
                    {
                        cells.AddRange(grid.Concurrencies.Select(c => SweepCell.NotMeasured(precision, batch, c, $"the model did not load at {precision}: {ex.StatusCode}: {ex.Status.Detail}")));
                    }

                    index += grid.Batches.Count * grid.Concurrencies.Count;
                    continue;
                }

                if (!heldBefore.Contains(model.ModelId) && !Loaded.Any(m => m.ModelId == model.ModelId))
                {
                    Loaded.Add(model);
                }

                Device = model.Device;
                if (checkAccuracy)
                {
                    // A reference the slice held or this sweep loaded stays for the sweep's own unload; any other goes at once.
                    bool Keep(string id) => heldBefore.Contains(id) || Loaded.Any(m => m.ModelId == id);
                    Accuracy.Add(await AccuracyCheck.AgainstFp32Async(
                        session, modelPath, model, Infrastructure.CommonOptions.PrecisionOf(precision), Keep, inputsFor(grid.Batches[0]), cancellationToken));
                }

                foreach (int batch in grid.Batches)
                {
                    Tensor[] inputs = inputsFor(batch);
                    foreach (int callers in grid.Concurrencies)
                    {
                        var cell = new SweepCell(precision, batch, callers, 0, 0, new Dictionary<string, int>(), null, 0, 0, null, null, null, 0, false);
                        cellStarting?.Invoke(index++, cell.Name);
                        SweepCell? measured = await MeasureAsync(model, precision, batch, callers, inputs, progress, cancellationToken);
                        if (measured is null)
                        {
                            return (cells, true);
                        }

                        cells.Add(measured);
                    }
                }
            }
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or RpcException)
        {
            return (cells, true);
        }

        return (cells, false);
    }

    /// <summary>Unloads what this sweep loaded, whatever happened to the sweep: its own deadline, not the interrupted token.</summary>
    public async Task<List<string>> UnloadAsync()
    {
        var unloaded = new List<string>();
        foreach (RemoteModel model in Loaded)
        {
            using var limit = new CancellationTokenSource(UnloadLimit);
            try
            {
                await session.UnloadModelAsync(model, limit.Token);
                unloaded.Add(model.ModelId);
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException)
            {
                Console.Error.WriteLine($"accel: warning: model {model.ModelId} could not be unloaded: {(ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : "timed out")}");
            }
        }

        return unloaded;
    }

    private async Task<SweepCell?> MeasureAsync(RemoteModel model, string precision, int batch, int callers, Tensor[] inputs, Action<LoadProgress>? progress, CancellationToken cancellationToken)
    {
        for (int i = 0; i < warmup; i++)
        {
            try
            {
                _ = await session.RunAsync(model, inputs, cancellationToken);
            }
            catch (RpcException) when (!cancellationToken.IsCancellationRequested)
            {
                // A batch the model refuses fails every call: the load below records how.
                break;
            }
        }

        SessionLoad.Result result = await SessionLoad.MeasureAsync(session, model, inputs, 0, new LoadMode.Closed(callers), stop, progress, engine, cancellationToken);
        if (result.Load.Interrupted)
        {
            return null;
        }

        Cpu.Add(result.Load.Cpu);
        if (result.Device.Length > 0)
        {
            Device = result.Device;
        }

        var statistics = LoadStatistics.Of(result.Load);
        var costs = LoadCosts.Of(statistics, batch, pricePerHour);
        return new SweepCell(precision, batch, callers, statistics.Requests, statistics.Succeeded, statistics.FailuresByStatus, statistics.LatencyMs,
            statistics.RequestsPerSecond, costs.ItemsPerSecond, costs.ItemsPerSecondCi, costs.CostPerMillionItems, costs.CostPerMillionItemsCi, statistics.Windows.Count, statistics.Stable);
    }
}
