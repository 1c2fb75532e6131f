using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Cli.Probing;

/// <summary>
/// Seed 003's "max models" probe: loads distinct copies of one model onto a slice, one at a time, until the next
/// would pass the slice's eviction threshold, and reports how many fit and what each is charged. It never makes
/// the agent evict on its account: before each copy it checks the slice's charge plus the largest copy so far
/// (the serialized size and warm-up inputs for the first) against the threshold. A copy that evicts anyway (it
/// came out larger) or is refused stops the probe. Afterwards it unloads every copy unless told to keep them.
/// </summary>
internal sealed class MaxModelsProbe(IProbeSlice slice, string aliasPrefix, int maxCopies, long firstCopyEstimate, bool keep)
{
    public const string StopThreshold = "threshold";
    public const string StopEvicted = "evicted";
    public const string StopRefused = "refused";
    public const string StopMaxCopies = "max_copies";
    public const string StopInterrupted = "interrupted";

    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Runs the probe on the slice (see the class); copies are named <c>aliasPrefix</c> followed by 0, 1, ….</summary>
    /// <param name="progress">Called after each copy that fits with the copies so far, their bytes, and the room the
    /// slice's other models left below the threshold when the probe started.</param>
    /// <param name="cancellationToken">Stops the probe before its next copy; the copies are still unloaded.</param>
    public async Task<MaxModelsResult> RunAsync(Action<int, long, long>? progress, CancellationToken cancellationToken)
    {
        ListModelsResponse start = await slice.ListModelsAsync(cancellationToken);
        var loaded = new List<string>();
        var charges = new List<long>();
        Stop stop;
        try
        {
            stop = await LoadCopiesAsync(start, loaded, charges, progress, cancellationToken);
        }
        catch (Exception ex) when (Interrupted(ex, cancellationToken))
        {
            stop = new Stop(StopInterrupted);
        }
        catch (Exception ex)
        {
            if (!keep)
            {
                (_, List<string> failures) = await UnloadAsync(loaded);
                if (failures.Count > 0)
                {
                    throw new CliException($"{Describe(ex)}; and {failures.Count} copies could not be unloaded: {string.Join("; ", failures)}");
                }
            }

            throw;
        }

        (List<string> unloaded, List<string> unloadFailures) = keep ? ([], []) : await UnloadAsync(loaded);
        return new MaxModelsResult
        {
            CopyCharges = charges,
            BudgetBytes = start.BudgetBytes,
            ThresholdBytes = start.ThresholdBytes,
            OtherModelsBytes = start.ChargedBytes,
            OtherModels = start.Models.Count(m => m.Resident),
            Device = start.Device,
            StoppedBecause = stop.Reason,
            ChargedAtStopBytes = stop.ChargedBytes,
            NextCopyBytes = stop.NextCopyBytes,
            RefusedBecause = stop.RefusedBecause,
            EvictedModelIds = stop.Evicted,
            LoadedModelIds = loaded,
            UnloadedModelIds = unloaded,
            UnloadFailures = unloadFailures,
            Kept = keep,
        };
    }

    private async Task<Stop> LoadCopiesAsync(ListModelsResponse start, List<string> loaded, List<long> charges, Action<int, long, long>? progress, CancellationToken cancellationToken)
    {
        // As of the last load's answer: other users' loads and unloads in between show up with the next one.
        long charged = start.ChargedBytes;
        for (int i = 0; i < maxCopies; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long next = charges.Count == 0 ? firstCopyEstimate : charges.Max();
            if (charged + next > start.ThresholdBytes)
            {
                return new Stop(StopThreshold) { ChargedBytes = charged, NextCopyBytes = next };
            }

            LoadedCopy copy;
            try
            {
                // Never cancelled halfway: the agent would finish the load anyway and leave a copy nobody tracks. An
                // interruption stops the probe before the next copy instead.
                copy = await slice.LoadCopyAsync(aliasPrefix + i.ToString(CultureInfo.InvariantCulture), CancellationToken.None);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                return new Stop(StopRefused) { ChargedBytes = charged, RefusedBecause = ex.Status.Detail };
            }

            loaded.Add(copy.ModelId);
            if (copy.EvictedModelIds.Count > 0)
            {
                return new Stop(StopEvicted) { ChargedBytes = copy.SliceChargedBytes, NextCopyBytes = copy.ChargedBytes, Evicted = copy.EvictedModelIds };
            }

            charged = copy.SliceChargedBytes;
            charges.Add(copy.ChargedBytes);
            progress?.Invoke(charges.Count, charges.Sum(), start.ThresholdBytes - start.ChargedBytes);
        }

        return new Stop(StopMaxCopies) { ChargedBytes = charged };
    }

    private async Task<(List<string> Unloaded, List<string> Failures)> UnloadAsync(List<string> modelIds)
    {
        using var timeout = new CancellationTokenSource(CleanupTimeout);
        List<string> unloaded = [];
        List<string> failures = [];
        foreach (string modelId in modelIds)
        {
            try
            {
                await slice.UnloadAsync(modelId, timeout.Token);
                unloaded.Add(modelId);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                // Unloaded by someone else, or the slice was detached: either way it is gone, which is what was wanted.
                unloaded.Add(modelId);
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException)
            {
                failures.Add($"{modelId}: {Describe(ex)}");
            }
        }

        return (unloaded, failures);
    }

    private static bool Interrupted(Exception ex, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled };

    private static string Describe(Exception ex) => ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message;

    private sealed record Stop(string Reason)
    {
        public long ChargedBytes { get; init; }

        public long NextCopyBytes { get; init; }

        public string RefusedBecause { get; init; } = "";

        public IReadOnlyList<string> Evicted { get; init; } = [];
    }
}
