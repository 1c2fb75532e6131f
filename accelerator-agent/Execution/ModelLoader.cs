using System.Diagnostics;
using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Execution.Batching;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Metering;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Slices;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace AccelBroker.Agent.Execution;

/// <summary>
/// Puts held model bytes onto slices and keeps each slice within its memory budget. Every resident model is
/// charged what it holds (CPU: parameter and buffer bytes plus the warm-up's peak, at least its inputs and
/// outputs; CUDA: device memory the load and warm-up took). A load that would take a slice past its eviction threshold first unloads the least
/// recently used models that are not executing; a model that cannot fit even then is refused. Evicted models
/// stay in the slice's catalogue and reload from the agent's store on their next run. Loads, reloads and
/// evictions happen one at a time per agent, so memory measurements belong to one model.
/// </summary>
internal sealed class ModelLoader
{
    public const int MaxAliasLength = 64;
    public const int MaxBatchSize = 4096;
    public static readonly TimeSpan MaxBatchDelay = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ModelStore _store;
    private readonly InferenceRunner _runner;
    private readonly ComputeDevice _device;
    private readonly DeviceMemoryProbe _probe;
    private readonly InferenceMetering _metering;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelLoader> _logger;

    public ModelLoader(ModelStore store, InferenceRunner runner, ComputeDevice device, DeviceMemoryProbe probe, InferenceMetering metering, TimeProvider time, ILogger<ModelLoader> logger)
    {
        _store = store;
        _runner = runner;
        _device = device;
        _probe = probe;
        _metering = metering;
        _time = time;
        _logger = logger;
    }

    public async Task<LoadModelResponse> LoadAsync(AcceleratorSlice slice, LoadModelRequest request, CancellationToken cancellationToken)
    {
        string sha256 = Validate(request.Sha256, request.Precision);
        string alias = ValidateAlias(request.Alias);
        BatchingOptions? batching = ValidateBatching(request.Batching);
        string modelId = LoadedModel.IdFor(sha256, request.Precision, alias);

        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfReleased(slice);
            if (slice.Catalog.TryGetValue(modelId, out SliceModelEntry? entry) && entry.Resident is not null)
            {
                return Response(slice, entry, loaded: false, new LoadFigures(0, 0, []));
            }

            // An evicted model loads again with the options it was first loaded with.
            entry ??= new SliceModelEntry(modelId, sha256, request.Precision, alias, [.. request.WarmupInputs], batching);
            LoadFigures figures = await LoadOntoAsync(slice, entry, cancellationToken);
            slice.Catalog[modelId] = entry;
            return Response(slice, entry, loaded: true, figures);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Takes a lease on a model the slice serves for a run, reloading it first when it was evicted: the caller
    /// sees the reload's latency, never an error for it. The caller must <see cref="LoadedModel.Release"/> it.
    /// </summary>
    public async ValueTask<LoadedModel> AcquireAsync(AcceleratorSlice slice, string modelId, CancellationToken cancellationToken)
    {
        if (slice.Models.TryGetValue(modelId, out LoadedModel? resident) && resident.TryAcquire())
        {
            return Used(slice, modelId, resident);
        }

        if (!slice.Catalog.ContainsKey(modelId))
        {
            throw SliceRegistry.UnknownModel(slice, modelId);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfReleased(slice);
            if (!slice.Catalog.TryGetValue(modelId, out SliceModelEntry? entry))
            {
                throw SliceRegistry.UnknownModel(slice, modelId);
            }

            if (entry.Resident is not { } model || !model.TryAcquire())
            {
                await LoadOntoAsync(slice, entry, cancellationToken);
                model = entry.Resident!;
                // No eviction can run before the gate is released, so the fresh model is there to take.
                if (!model.TryAcquire())
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, $"model '{modelId}' was unloaded while it reloaded; retry"));
                }

                AgentLog.ModelReloaded(_logger, modelId, slice.Id);
            }

            return Used(slice, modelId, model);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops serving a model on a slice: it is unloaded (after its in-flight runs) and forgotten.</summary>
    public async Task UnloadAsync(AcceleratorSlice slice, string modelId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!slice.Catalog.TryRemove(modelId, out SliceModelEntry? entry))
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"unknown model '{modelId}' on slice '{slice.Id}'"));
            }

            slice.Models.TryRemove(modelId, out _);
            entry.Resident?.Retire();
            entry.Resident = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Loads held model bytes onto the device without putting them on any slice: the caller owns the model and
    /// must <see cref="LoadedModel.Retire"/> it (an agent-local benchmark does).
    /// </summary>
    public LoadedModel LoadDetached(string requestedSha256, Precision precision)
    {
        string sha256 = Validate(requestedSha256, precision);
        byte[] bytes = _store.Read(sha256);
        torch.jit.ScriptModule module = Load(bytes, precision);
        return new LoadedModel(LoadedModel.IdFor(sha256, precision), sha256, bytes.LongLength, precision, module, _time.GetUtcNow());
    }

    private LoadedModel Used(AcceleratorSlice slice, string modelId, LoadedModel model)
    {
        if (slice.Catalog.TryGetValue(modelId, out SliceModelEntry? entry))
        {
            entry.Touch(_time.GetUtcNow());
            entry.CountRun();
        }

        return model;
    }

    // Called under the gate. On failure nothing of the new load remains; models evicted to make room stay evicted
    // (they reload on demand), but none is evicted for a model that cannot fit.
    private async Task<LoadFigures> LoadOntoAsync(AcceleratorSlice slice, SliceModelEntry entry, CancellationToken cancellationToken)
    {
        byte[] bytes = _store.Read(entry.Sha256);
        var evicted = new List<string>();
        if (_device.IsCuda)
        {
            // Device memory is shared by the agent's slices: make room before loading rather than overrun it. On CPU
            // the load itself is measured first, so no model is evicted on an estimate.
            long estimate = Estimate(bytes.LongLength, entry.Precision);
            if (estimate > slice.BudgetBytes)
            {
                throw TooLarge(slice, entry.ModelId, estimate, "its serialized size", available: slice.BudgetBytes);
            }

            MakeRoom(slice, estimate, evicted);
        }

        // A load and its warm-up take one of the slice's execution slots, like a run: they would otherwise compete
        // with every slice's runs for the cores, and with one slot nothing else runs while the memory is measured.
        Measured measured = await _runner.WithSlotAsync(
            slice.Id, slice.Assignment.ComputeShare, () => LoadAndMeasure(slice, entry, bytes, evicted), cancellationToken);
        torch.jit.ScriptModule module = measured.Module;
        long charge = measured.ChargedBytes;

        LoadedModel? model = null;
        DynamicBatcher? batcher = entry.Batching is { } options
            ? new DynamicBatcher(
                options,
                (inputs, deadline, cancellationToken) => _runner.RunAsync(model!, slice.Id, slice.Assignment.ComputeShare, inputs, nativeOutputDtype: false, deadline, cancellationToken),
                _time,
                items => _metering.BatchExecuted(slice, entry.ModelId, items))
            : null;
        model = new LoadedModel(entry.ModelId, entry.Sha256, bytes.LongLength, entry.Precision, module, _time.GetUtcNow()) { Batcher = batcher };

        entry.Resident = model;
        entry.ChargedBytes = charge;
        entry.LoadCount++;
        entry.Touch(_time.GetUtcNow());
        slice.Models[entry.ModelId] = model;
        slice.CountLoad();
        if (slice.Released)
        {
            // Released while this load ran: RetireAll may have missed the model.
            slice.Models.TryRemove(entry.ModelId, out _);
            entry.Resident = null;
            model.Retire();
            ThrowIfReleased(slice);
        }

        AgentLog.ModelLoaded(_logger, entry.ModelId, slice.Id, _device.Label, measured.LoadSeconds * 1000);
        return new LoadFigures(measured.LoadSeconds, measured.WarmupSeconds, evicted);
    }

    // Synchronous, in one slot: the module is disposed here if it cannot stay.
    private Measured LoadAndMeasure(AcceleratorSlice slice, SliceModelEntry entry, byte[] bytes, List<string> evicted)
    {
        long deviceBefore = _device.IsCuda ? _probe.Begin() : 0;
        long started = Stopwatch.GetTimestamp();
        torch.jit.ScriptModule module = Load(bytes, entry.Precision);
        double loadSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        try
        {
            long parameterBytes = ModelFootprint.ParameterAndBufferBytes(module);
            long warmupBytes = 0;
            double warmupSeconds = 0;
            if (entry.Warmup.Count > 0)
            {
                long peakBefore = _device.IsCuda ? 0 : _probe.Begin();
                long warm = Stopwatch.GetTimestamp();
                long tensorBytes;
                try
                {
                    tensorBytes = _runner.WarmUp(module, LoadedModel.CastTypeOf(entry.Precision), entry.Warmup);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not RpcException)
                {
                    throw TorchErrors.ToRpc(ex, "warm-up run failed");
                }

                warmupSeconds = Stopwatch.GetElapsedTime(warm).TotalSeconds;
                // The allocator may reuse pages that are already resident, so RSS growth can miss what the run
                // held; the warm-up's own inputs and outputs are a floor.
                warmupBytes = _device.IsCuda ? 0 : Math.Max(_probe.GrowthSince(peakBefore), tensorBytes);
            }

            // CUDA: what the device really gave up (the caching allocator keeps the warm-up's blocks); never less
            // than the weights, in case the allocator had them cached already.
            long charge = _device.IsCuda ? Math.Max(parameterBytes, _probe.GrowthSince(deviceBefore)) : parameterBytes + warmupBytes;
            AgentLog.ModelCharged(_logger, entry.ModelId, slice.Id, charge, parameterBytes, warmupBytes);
            if (!MakeRoom(slice, charge, evicted))
            {
                throw TooLarge(slice, entry.ModelId, charge, "measured", available: slice.BudgetBytes - Unevictable(slice));
            }

            return new Measured(module, charge, loadSeconds, warmupSeconds);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Unloads least recently used idle models until <paramref name="needed"/> more bytes stay within the
    /// threshold. Evicts nothing when even unloading every idle model would not fit the budget. Returns whether
    /// the bytes now fit the budget.
    /// </summary>
    private bool MakeRoom(AcceleratorSlice slice, long needed, List<string> evicted)
    {
        long charged = slice.ChargedBytes;
        if (charged + needed <= slice.ThresholdBytes)
        {
            return true;
        }

        List<SliceModelEntry> idle = [.. slice.Catalog.Values
            .Where(e => e.Resident is { IsIdle: true })
            .OrderBy(e => e.LastUsedTicks)
            .ThenBy(e => e.ModelId, StringComparer.Ordinal)];
        if (charged - idle.Sum(e => e.ChargedBytes) + needed > slice.BudgetBytes)
        {
            return false;
        }

        foreach (SliceModelEntry entry in idle)
        {
            if (charged + needed <= slice.ThresholdBytes)
            {
                break;
            }

            if (entry.Resident!.TryRetireIfIdle())
            {
                slice.Models.TryRemove(entry.ModelId, out _);
                entry.Resident = null;
                charged -= entry.ChargedBytes;
                evicted.Add(entry.ModelId);
                slice.CountEviction();
                AgentLog.ModelEvicted(_logger, entry.ModelId, slice.Id, entry.ChargedBytes);
            }
        }

        return charged + needed <= slice.BudgetBytes;
    }

    private static long Unevictable(AcceleratorSlice slice) =>
        slice.Catalog.Values.Where(e => e.Resident is { IsIdle: false }).Sum(e => e.ChargedBytes);

    // Before loading, the serialized size stands in for the weights (half of it at fp16/bf16).
    private static long Estimate(long serializedBytes, Precision precision) =>
        precision == Precision.Fp32 ? serializedBytes : serializedBytes / 2;

    private LoadModelResponse Response(AcceleratorSlice slice, SliceModelEntry entry, bool loaded, LoadFigures figures)
    {
        var response = new LoadModelResponse
        {
            ModelId = entry.ModelId,
            Loaded = loaded,
            LoadSeconds = figures.LoadSeconds,
            WarmupSeconds = figures.WarmupSeconds,
            Device = _device.Label,
            ChargedBytes = entry.ChargedBytes,
            SliceChargedBytes = slice.ChargedBytes,
            SliceBudgetBytes = slice.BudgetBytes,
        };
        response.EvictedModelIds.AddRange(figures.Evicted);
        return response;
    }

    private static RpcException TooLarge(AcceleratorSlice slice, string modelId, long needed, string how, long available) =>
        new(new Status(StatusCode.ResourceExhausted,
            $"model '{modelId}' needs {needed} bytes ({how}) but slice '{slice.Id}' has {Math.Max(0, available)} of its {slice.BudgetBytes} bytes " +
            "available, even after unloading every model that is not executing"));

    private static void ThrowIfReleased(AcceleratorSlice slice)
    {
        if (slice.Released)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"slice '{slice.Id}' was released (detached)"));
        }
    }

    private static string Validate(string requestedSha256, Precision precision)
    {
        string sha256 = requestedSha256.ToLowerInvariant();
        if (!ModelStore.IsSha256(sha256))
        {
            throw Invalid($"sha256 must be 64 hex digits, got '{requestedSha256}'");
        }

        if (!Enum.IsDefined(precision))
        {
            throw Invalid($"unknown precision {(int)precision}");
        }

        return sha256;
    }

    private static string ValidateAlias(string alias)
    {
        if (alias.Length > MaxAliasLength || !alias.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw Invalid($"alias must be at most {MaxAliasLength} letters, digits, '.', '_' or '-', got '{alias}'");
        }

        return alias;
    }

    private static BatchingOptions? ValidateBatching(BatchingConfig? batching)
    {
        if (batching is null)
        {
            return null;
        }

        if (batching.MaxBatchSize is < 0 or > MaxBatchSize)
        {
            throw Invalid($"batching max_batch_size must be between 0 and {MaxBatchSize}, got {batching.MaxBatchSize}");
        }

        if (batching.MaxDelayMicros < 0 || batching.MaxDelayMicros > (long)MaxBatchDelay.TotalMicroseconds)
        {
            throw Invalid($"batching max_delay_micros must be between 0 and {(long)MaxBatchDelay.TotalMicroseconds}, got {batching.MaxDelayMicros}");
        }

        return batching.MaxBatchSize <= 1 ? null : new BatchingOptions(batching.MaxBatchSize, TimeSpan.FromMicroseconds(batching.MaxDelayMicros));
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));

    private torch.jit.ScriptModule Load(byte[] bytes, Precision precision)
    {
        torch.jit.ScriptModule module;
        try
        {
            module = torch.jit.load(bytes, _device.DeviceType, _device.Index);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw TorchErrors.ToRpc(ex, "not a loadable TorchScript model");
        }

        try
        {
            LoadedModel.PrepareForInference(module, precision);
            return module;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            module.Dispose();
            throw TorchErrors.ToRpc(ex, $"cannot prepare the model for {precision}");
        }
    }

    private sealed record LoadFigures(double LoadSeconds, double WarmupSeconds, List<string> Evicted);

    private readonly record struct Measured(torch.jit.ScriptModule Module, long ChargedBytes, double LoadSeconds, double WarmupSeconds);
}
