using System.Diagnostics;
using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Execution.Batching;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Isolation.Protocol;
using AccelBroker.Agent.Metering;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Execution;

/// <summary>
/// Puts held model bytes onto slices and keeps each slice within its memory budget. Every resident model is
/// charged what it holds (CPU: parameter and buffer bytes plus the warm-up's peak, at least its inputs and
/// outputs; CUDA: device memory the load and warm-up took). A load that would take a slice past its eviction threshold first unloads the least
/// recently used models that are not executing; a model that cannot fit even then is refused. Evicted models
/// stay in the slice's catalogue and reload from the agent's store on their next run. Loads, reloads and
/// evictions happen one at a time per agent, so memory measurements belong to one model. Loads run in the
/// slice's worker process: bytes that crash libtorch take only that process, are refused from then on, and the
/// slice's other models reload in a new worker on their next run.
/// </summary>
internal sealed class ModelLoader
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ModelStore _store;
    private readonly InferenceRunner _runner;
    private readonly ComputeDevice _device;
    private readonly InferenceMetering _metering;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelLoader> _logger;
    private readonly SliceWorkers _workers;
    private readonly SliceRegistry _slices;
    private readonly QuarantinedModels _quarantine;
    private readonly TimeSpan _maxLoadTime;

    public ModelLoader(ModelStore store, InferenceRunner runner, ComputeDevice device, InferenceMetering metering, SliceWorkers workers, SliceRegistry slices, QuarantinedModels quarantine, AgentOptions options, TimeProvider time, ILogger<ModelLoader> logger)
    {
        _maxLoadTime = options.MaxLoadTime;
        _store = store;
        _runner = runner;
        _device = device;
        _metering = metering;
        _workers = workers;
        _slices = slices;
        _quarantine = quarantine;
        _time = time;
        _logger = logger;
        workers.Crashed += OnWorkerEnded;
    }

    public async Task<LoadModelResponse> LoadAsync(AcceleratorSlice slice, LoadModelRequest request, CancellationToken cancellationToken)
    {
        string sha256 = LoadRequestChecks.Sha256(request.Sha256, request.Precision);
        string alias = LoadRequestChecks.Alias(request.Alias);
        BatchingOptions? batching = LoadRequestChecks.Batching(request.Batching);
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
        if (slice.Models.TryGetValue(modelId, out LoadedModel? resident) && resident.IsAlive && resident.TryAcquire())
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

            if (entry.Resident is { IsAlive: false })
            {
                // Its worker crashed before the crash was handled: the module is gone, load it again.
                Forget(slice, entry);
            }

            if (entry.Resident is not { } model || !model.TryAcquire())
            {
                await LoadOntoAsync(slice, entry, cancellationToken);
                model = entry.Resident!;
                // No eviction can run before the gate is released, so the fresh model is there to take.
                if (!model.TryAcquire())
                {
                    throw DomainException.Unavailable($"model '{modelId}' was unloaded while it reloaded; retry");
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
                throw DomainException.NotFound($"unknown model '{modelId}' on slice '{slice.Id}'");
            }

            bool idle = entry.Resident is null or { IsIdle: true };
            Forget(slice, entry);
            // libtorch does not give a TorchScript module's memory back when it is freed (measured: a 256 MiB
            // model unloaded, even after a GC and malloc_trim, left all of it resident). A worker left with no
            // models and holding more than its start is replaced; with none resident, no run can be on it.
            if (idle && slice.Models.IsEmpty && _workers.For(slice.Id).RecycleIfBloated())
            {
                AgentLog.WorkerRecycled(_logger, slice.Id);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Loads held model bytes into <paramref name="worker"/> without putting them on any slice: the caller owns the
    /// model and must <see cref="LoadedModel.Retire"/> it (an agent-local benchmark does).
    /// </summary>
    public async Task<LoadedModel> LoadDetachedAsync(string requestedSha256, Precision precision, WorkerProcess worker)
    {
        string sha256 = LoadRequestChecks.Sha256(requestedSha256, precision);
        string path = VerifiedPath(sha256);
        int handle = worker.NewHandle();
        await LoadInWorkerAsync(worker, handle, path, sha256, precision, [], worker.Owner);
        return new LoadedModel(LoadedModel.IdFor(sha256, precision), sha256, new FileInfo(path).Length, precision, worker, handle, _time.GetUtcNow());
    }

    /// <summary>
    /// Forgets the resident models a worker held once it has ended: their modules went with it. They stay in the
    /// slice's catalogue and reload in the slice's next worker on their next run.
    /// </summary>
    private void OnWorkerEnded(string sliceId, WorkerProcess worker, string crash) => _ = Task.Run(async () =>
    {
        await _gate.WaitAsync();
        try
        {
            if (!_slices.TryGet(sliceId, out AcceleratorSlice? slice))
            {
                return;
            }

            int lost = 0;
            foreach (SliceModelEntry entry in slice.Catalog.Values)
            {
                if (entry.Resident is { } model && model.Worker == worker)
                {
                    Forget(slice, entry);
                    lost++;
                }
            }

            if (lost > 0)
            {
                AgentLog.WorkerModelsLost(_logger, sliceId, lost, crash);
            }
        }
        finally
        {
            _gate.Release();
        }
    });

    // Called under the gate.
    private static void Forget(AcceleratorSlice slice, SliceModelEntry entry)
    {
        slice.Models.TryRemove(entry.ModelId, out _);
        entry.Resident?.Retire();
        entry.Resident = null;
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
        string path = VerifiedPath(entry.Sha256);
        long fileBytes = new FileInfo(path).Length;
        // What libtorch will allocate for the records, from the archive's directory: refused before any of it is.
        ModelArchive? archive = ModelArchive.Inspect(path);
        if (archive is { } declared)
        {
            // Storages stay with the model; code records are parsed and freed, but are read whole first.
            if (declared.StorageBytes > slice.BudgetBytes)
            {
                throw TooLarge(slice, entry.ModelId, declared.StorageBytes, "its storage records, uncompressed, before loading", available: slice.BudgetBytes);
            }

            if (declared.DeclaredBytes - declared.StorageBytes > slice.BudgetBytes)
            {
                throw TooLarge(slice, entry.ModelId, declared.DeclaredBytes - declared.StorageBytes, "its code records, uncompressed, before loading", available: slice.BudgetBytes);
            }
        }

        var evicted = new List<string>();
        if (_device.IsCuda)
        {
            // Device memory is shared by the agent's slices: make room before loading rather than overrun it. On CPU
            // the load itself is measured first, so no model is evicted on an estimate.
            long estimate = Estimate(fileBytes, entry.Precision);
            if (estimate > slice.BudgetBytes)
            {
                throw TooLarge(slice, entry.ModelId, estimate, "its serialized size", available: slice.BudgetBytes);
            }

            MakeRoom(slice, estimate, evicted);
        }

        WorkerProcess worker = await _workers.For(slice.Id).GetAsync(cancellationToken);
        if (slice.Released)
        {
            // Released since the load began: the worker may have been asked for after the release stopped it.
            _workers.Release(slice.Id);
            ThrowIfReleased(slice);
        }

        int handle = worker.NewHandle();
        // A load and its warm-up take one of the slice's execution slots, like a run: they would otherwise compete
        // with every slice's runs for the cores, and with one slot nothing else runs while the memory is measured.
        Measured measured = await _runner.WithSlotAsync(
            slice.Id, slice.Assignment.ComputeShare, () => LoadAndMeasureAsync(slice, entry, worker, handle, path, archive, evicted), cancellationToken);
        long charge = measured.ChargedBytes;

        LoadedModel? model = null;
        DynamicBatcher? batcher = entry.Batching is { } options
            ? new DynamicBatcher(
                options,
                (inputs, deadline, cancellationToken) => _runner.RunAsync(model!, slice.Id, slice.Assignment.ComputeShare, inputs, nativeOutputDtype: false, deadline, cancellationToken),
                _time,
                items => _metering.BatchExecuted(slice, entry.ModelId, items))
            : null;
        model = new LoadedModel(entry.ModelId, entry.Sha256, fileBytes, entry.Precision, worker, handle, _time.GetUtcNow()) { Batcher = batcher };

        entry.Resident = model;
        entry.ChargedBytes = charge;
        entry.LoadCount++;
        entry.Touch(_time.GetUtcNow());
        slice.Models[entry.ModelId] = model;
        slice.CountLoad();
        if (slice.Released || !worker.IsAlive)
        {
            // Released while this load ran (RetireAll may have missed the model), or its worker ended since.
            Forget(slice, entry);
            ThrowIfReleased(slice);
            throw DomainException.Unavailable($"the worker process of slice '{slice.Id}' ended during the load; retry");
        }

        AgentLog.ModelLoaded(_logger, entry.ModelId, slice.Id, _device.Label, measured.LoadSeconds * 1000);
        return new LoadFigures(measured.LoadSeconds, measured.WarmupSeconds, evicted);
    }

    // In one slot: the module is unloaded from the worker here if it cannot stay.
    private async Task<Measured> LoadAndMeasureAsync(AcceleratorSlice slice, SliceModelEntry entry, WorkerProcess worker, int handle, string path, ModelArchive? archive, List<string> evicted)
    {
        LoadResult loaded = await LoadInWorkerAsync(worker, handle, path, entry.Sha256, entry.Precision, entry.Warmup, slice.Id);
        long parameterBytes = loaded.ParameterBytes;
        // Storage records no parameter or buffer accounts for (constants, or a small tensor over a large record)
        // are held too. At fp16/bf16 the parameters were halved from the records' fp32.
        long unaccounted = archive is null ? 0 : Math.Max(0, archive.StorageBytes - (entry.Precision == Precision.Fp32 ? parameterBytes : 2 * parameterBytes));
        // CUDA: what the device really gave up (the caching allocator keeps the warm-up's blocks); never less
        // than the weights, in case the allocator had them cached already.
        long charge = _device.IsCuda
            ? Math.Max(parameterBytes, loaded.DeviceGrowthBytes)
            : parameterBytes + unaccounted + loaded.WarmupBytes;
        AgentLog.ModelCharged(_logger, entry.ModelId, slice.Id, charge, parameterBytes, loaded.WarmupBytes);
        if (!MakeRoom(slice, charge, evicted))
        {
            worker.Unload(handle);
            throw TooLarge(slice, entry.ModelId, charge, "measured", available: slice.BudgetBytes - Unevictable(slice));
        }

        return new Measured(charge, loaded.LoadSeconds, loaded.WarmupSeconds);
    }

    /// <summary>
    /// Loads and warms up in a worker. Bytes that crash it when they are all it executes are quarantined: this load
    /// and every later one of the same bytes are refused, and the bytes never run again.
    /// </summary>
    private async Task<LoadResult> LoadInWorkerAsync(WorkerProcess worker, int handle, string path, string sha256, Precision precision, IEnumerable<TensorSpec> warmup, string owner)
    {
        Task<LoadResult> load = worker.LoadAsync(handle, path, precision, warmup);
        try
        {
            return await load.WaitAsync(_maxLoadTime, _time);
        }
        catch (TimeoutException)
        {
            // A load that never ends would hold the agent's load gate: its worker goes, and the bytes are refused.
            worker.Kill();
            _ = load.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            string crash = $"did not finish within {_maxLoadTime.TotalSeconds:0} s";
            _quarantine.Add(sha256, crash);
            AgentLog.ModelQuarantined(_logger, sha256, owner, crash);
            throw DomainException.Invalid($"the model's load and warm-up {crash}; these bytes are refused from now on");
        }
        catch (WorkerCrashedException ex) when (ex.Alone)
        {
            _quarantine.Add(sha256, ex.Crash);
            AgentLog.ModelQuarantined(_logger, sha256, owner, ex.Crash);
            throw DomainException.Invalid($"the model crashed the loader ({ex.Crash}); these bytes are refused from now on");
        }
        catch (WorkerCrashedException ex)
        {
            throw DomainException.Unavailable($"the slice's worker process crashed during the load ({ex.Crash}); retry");
        }
    }

    private string VerifiedPath(string sha256) =>
        _quarantine.TryGet(sha256, out string crash)
            ? throw DomainException.Invalid($"model sha256={sha256} crashed the loader before ({crash}); it is not loaded again")
            : _store.VerifiedPath(sha256);

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

    private static DomainException TooLarge(AcceleratorSlice slice, string modelId, long needed, string how, long available) =>
        DomainException.Exhausted(
            $"model '{modelId}' needs {needed} bytes ({how}) but slice '{slice.Id}' has {Math.Max(0, available)} of its {slice.BudgetBytes} bytes " +
            "available, even after unloading every model that is not executing");

    private static void ThrowIfReleased(AcceleratorSlice slice)
    {
        if (slice.Released)
        {
            throw DomainException.NotFound($"slice '{slice.Id}' was released (detached)");
        }
    }

    private sealed record LoadFigures(double LoadSeconds, double WarmupSeconds, List<string> Evicted);

    private readonly record struct Measured(long ChargedBytes, double LoadSeconds, double WarmupSeconds);
}
