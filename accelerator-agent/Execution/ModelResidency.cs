using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Execution.Batching;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Metering;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Execution;

/// <summary>
/// Moves models on and off their slices: a load on request, a reload when a run finds its model evicted (the caller
/// sees the reload's latency, never an error for it), an unload, and forgetting what a crashed worker held. Loads,
/// reloads and evictions happen one at a time per agent, so each memory measurement belongs to one model. Each
/// slice keeps its own state (<see cref="AcceleratorSlice"/>); <see cref="ModelLoader"/> does the loading.
/// </summary>
internal sealed class ModelResidency
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ModelLoader _loader;
    private readonly InferenceRunner _runner;
    private readonly InferenceMetering _metering;
    private readonly SliceWorkers _workers;
    private readonly SliceRegistry _slices;
    private readonly ComputeDevice _device;
    private readonly TimeProvider _time;
    private readonly AgentOptions _options;
    private readonly ILogger<ModelResidency> _logger;

    public ModelResidency(ModelLoader loader, InferenceRunner runner, InferenceMetering metering, SliceWorkers workers, SliceRegistry slices, ComputeDevice device, TimeProvider time, AgentOptions options, ILogger<ModelResidency> logger)
    {
        _loader = loader;
        _runner = runner;
        _metering = metering;
        _workers = workers;
        _slices = slices;
        _device = device;
        _time = time;
        _options = options;
        _logger = logger;
        workers.Crashed += OnWorkerEnded;
    }

    public async Task<LoadModelResponse> LoadAsync(AcceleratorSlice slice, LoadModelRequest request, CancellationToken cancellationToken)
    {
        string sha256 = LoadRequestChecks.Sha256(request.Sha256);
        // Before anything is read: bytes the host may not load never reach a worker, whatever they hold.
        if (!slice.Allows(sha256))
        {
            throw slice.NotAllowed(sha256);
        }

        Precision precision = LoadRequestChecks.Precision(request.Precision);
        string alias = LoadRequestChecks.Alias(request.Alias);
        BatchingOptions? batching = LoadRequestChecks.Batching(request.Batching);
        LoadRequestChecks.Warmup(request.WarmupInputs, _options.MaxRequestBytes);
        string modelId = LoadedModel.IdFor(sha256, precision, alias);

        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfReleased(slice);
            if (slice.TryGetModel(modelId, out SliceModelEntry? entry) && entry.Resident is not null)
            {
                return Response(slice, entry, loaded: false, new LoadFigures(0, 0, []));
            }

            // An evicted model loads again with the options it was first loaded with.
            entry ??= new SliceModelEntry(modelId, sha256, precision, alias, [.. request.WarmupInputs], batching);
            LoadFigures figures = await LoadOntoAsync(slice, entry, cancellationToken);
            return Response(slice, entry, loaded: true, figures);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Takes a lease on a model the slice serves for a run, reloading it first when it was evicted. The caller must
    /// <see cref="LoadedModel.Release"/> it.
    /// </summary>
    public async ValueTask<LoadedModel> AcquireAsync(AcceleratorSlice slice, string modelId, CancellationToken cancellationToken)
    {
        if (slice.TryGetResident(modelId, out LoadedModel? resident) && resident.TryAcquire())
        {
            slice.Used(modelId, _time.GetUtcNow());
            return resident;
        }

        if (!slice.TryGetModel(modelId, out _))
        {
            throw slice.UnknownModel(modelId);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            ThrowIfReleased(slice);
            if (!slice.TryGetModel(modelId, out SliceModelEntry? entry))
            {
                throw slice.UnknownModel(modelId);
            }

            if (entry.Resident is { IsAlive: false })
            {
                // Its worker crashed before the crash was handled: the module is gone, load it again.
                slice.Forget(entry);
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

            slice.Used(modelId, _time.GetUtcNow());
            return model;
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
            bool idle = slice.TryGetModel(modelId, out SliceModelEntry? held) && held.Resident is null or { IsIdle: true };
            slice.Remove(modelId);
            // libtorch does not give a TorchScript module's memory back when it is freed (measured: a 256 MiB
            // model unloaded, even after a GC and malloc_trim, left all of it resident). A worker left with no
            // models and holding more than its start is replaced; with none resident, no run can be on it.
            if (idle && slice.ResidentCount == 0 && _workers.For(slice.Id).RecycleIfBloated())
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
    /// Forgets the resident models a worker held once it has ended: their modules went with it. They stay served
    /// and reload in the slice's next worker on their next run.
    /// </summary>
    private void OnWorkerEnded(string sliceId, WorkerProcess worker, string crash) => _ = Task.Run(async () =>
    {
        await _gate.WaitAsync();
        try
        {
            int lost = _slices.TryGet(sliceId, out AcceleratorSlice? slice) ? slice.ForgetModelsOf(worker) : 0;
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

    // Called under the gate. On failure nothing of the new load remains; models evicted to make room stay evicted
    // (they reload on demand), but none is evicted for a model that cannot fit.
    private async Task<LoadFigures> LoadOntoAsync(AcceleratorSlice slice, SliceModelEntry entry, CancellationToken cancellationToken)
    {
        // Again here: a reload of an evicted model, or a load that waited for the gate while the allowlist narrowed.
        if (!slice.Allows(entry.Sha256))
        {
            throw slice.NotAllowed(entry.Sha256);
        }

        ModelSource source = _loader.Inspect(slice, entry);
        var evicted = new List<SliceModelEntry>();
        if (source.EstimateBytes is { } estimate)
        {
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
        MeasuredLoad measured = await _loader.LoadAsync(slice, entry, source, worker, handle, charge => MakeRoom(slice, charge, evicted), cancellationToken);

        LoadedModel? model = null;
        DynamicBatcher? batcher = entry.Batching is { } options
            ? new DynamicBatcher(
                options,
                (inputs, deadline, started, cancellationToken) => _runner.RunAsync(model!, slice.Id, slice.Assignment.ComputeShare, inputs, nativeOutputDtype: false, deadline, started, cancellationToken),
                _time,
                items => _metering.BatchExecuted(slice, entry.ModelId, items))
            : null;
        model = new LoadedModel(entry.ModelId, entry.Sha256, source.FileBytes, entry.Precision, worker, handle, _time.GetUtcNow()) { Batcher = batcher };

        bool wasServed = slice.TryGetModel(entry.ModelId, out _);
        slice.MakeResident(entry, model, measured.ChargedBytes, _time.GetUtcNow());
        if (slice.Released || !worker.IsAlive)
        {
            // Released while this load ran (RetireAll may have missed the model), or its worker ended since.
            slice.Abandon(entry, wasServed);
            ThrowIfReleased(slice);
            throw DomainException.Unavailable($"the worker process of slice '{slice.Id}' ended during the load; retry");
        }

        if (!slice.Allows(entry.Sha256))
        {
            // The allowlist narrowed while this load ran (its removal may have missed the model): nothing of it stays.
            slice.Abandon(entry, wasServed: false);
            throw slice.NotAllowed(entry.Sha256);
        }

        AgentLog.ModelLoaded(_logger, entry.ModelId, slice.Id, _device.Label, measured.LoadSeconds * 1000);
        return new LoadFigures(measured.LoadSeconds, measured.WarmupSeconds, [.. evicted.Select(e => e.ModelId)]);
    }

    private bool MakeRoom(AcceleratorSlice slice, long needed, List<SliceModelEntry> evicted)
    {
        int before = evicted.Count;
        bool fits = slice.MakeRoom(needed, evicted);
        foreach (SliceModelEntry entry in evicted.Skip(before))
        {
            AgentLog.ModelEvicted(_logger, entry.ModelId, slice.Id, entry.ChargedBytes);
        }

        return fits;
    }

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

    private static void ThrowIfReleased(AcceleratorSlice slice)
    {
        if (slice.Released)
        {
            throw DomainException.NotFound($"slice '{slice.Id}' was released (detached)");
        }
    }

    private sealed record LoadFigures(double LoadSeconds, double WarmupSeconds, List<string> Evicted);
}
