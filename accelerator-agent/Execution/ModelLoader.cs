using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Isolation.Protocol;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Agent.Execution;

/// <summary>
/// Loads held model bytes into a worker process and measures what they hold: nothing else. Every load is charged
/// what it holds (CPU: parameter and buffer bytes plus the warm-up's peak, at least its inputs and outputs; CUDA:
/// device memory the load and warm-up took). Bytes that crash libtorch take only their worker, and are refused from
/// then on. Which models stay resident, and which go to make room, is the slice's decision
/// (<see cref="AcceleratorSlice"/>, driven by <see cref="ModelResidency"/>).
/// </summary>
internal sealed class ModelLoader
{
    private readonly ModelStore _store;
    private readonly InferenceRunner _runner;
    private readonly ComputeDevice _device;
    private readonly QuarantinedModels _quarantine;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelLoader> _logger;
    private readonly TimeSpan _maxLoadTime;

    public ModelLoader(ModelStore store, InferenceRunner runner, ComputeDevice device, QuarantinedModels quarantine, AgentOptions options, TimeProvider time, ILogger<ModelLoader> logger)
    {
        _maxLoadTime = options.MaxLoadTime;
        _store = store;
        _runner = runner;
        _device = device;
        _quarantine = quarantine;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Finds a model's bytes and what they declare, refusing before any is allocated a model whose records alone
    /// exceed the slice's budget. On CUDA, <see cref="ModelSource.EstimateBytes"/> is what to make room for first.
    /// </summary>
    public ModelSource Inspect(AcceleratorSlice slice, SliceModelEntry entry)
    {
        string path = VerifiedPath(entry.Sha256);
        long fileBytes = new FileInfo(path).Length;
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

        long? estimate = null;
        if (_device.IsCuda)
        {
            // Device memory is shared by the agent's slices: room is made before loading rather than overrun it. On
            // CPU the load itself is measured first, so no model is evicted on an estimate.
            estimate = LoadEstimates.WeightsBytes(fileBytes, entry.Precision);
            if (estimate > slice.BudgetBytes)
            {
                throw TooLarge(slice, entry.ModelId, estimate.Value, "its serialized size", available: slice.BudgetBytes);
            }
        }

        return new ModelSource(path, fileBytes, archive, estimate);
    }

    /// <summary>
    /// Loads and warms up the model in <paramref name="worker"/> under <paramref name="handle"/> and measures its
    /// charge. It takes one of the slice's execution slots, like a run: it would otherwise compete with every
    /// slice's runs for the cores, and with one slot nothing else runs while the memory is measured. Within that
    /// slot <paramref name="admit"/> is asked whether the charge can stay; when it cannot, the module is unloaded
    /// again and the load refused.
    /// </summary>
    public Task<MeasuredLoad> LoadAsync(
        AcceleratorSlice slice, SliceModelEntry entry, ModelSource source, WorkerProcess worker, int handle, Func<long, bool> admit, CancellationToken cancellationToken) =>
        _runner.WithSlotAsync(slice.Id, slice.Assignment.ComputeShare, async () =>
        {
            LoadResult loaded = await LoadInWorkerAsync(worker, handle, source.Path, entry.Sha256, entry.Precision, entry.Warmup, slice.Id);
            long charge = Charge(entry.Precision, source.Archive, loaded);
            AgentLog.ModelCharged(_logger, entry.ModelId, slice.Id, charge, loaded.ParameterBytes, loaded.WarmupBytes);
            if (!admit(charge))
            {
                worker.Unload(handle);
                throw TooLarge(slice, entry.ModelId, charge, "measured", available: slice.BudgetBytes - slice.UnevictableBytes);
            }

            return new MeasuredLoad(charge, loaded.LoadSeconds, loaded.WarmupSeconds);
        }, cancellationToken);

    /// <summary>
    /// Loads held model bytes into <paramref name="worker"/> without putting them on any slice: the caller owns the
    /// model and must <see cref="LoadedModel.Retire"/> it (an agent-local benchmark does).
    /// </summary>
    public async Task<LoadedModel> LoadDetachedAsync(string requestedSha256, Precision precision, WorkerProcess worker)
    {
        string sha256 = LoadRequestChecks.Sha256(requestedSha256);
        precision = LoadRequestChecks.Precision(precision);
        string path = VerifiedPath(sha256);
        int handle = worker.NewHandle();
        await LoadInWorkerAsync(worker, handle, path, sha256, precision, [], worker.Owner);
        return new LoadedModel(LoadedModel.IdFor(sha256, precision), sha256, new FileInfo(path).Length, precision, worker, handle, _time.GetUtcNow());
    }

    private long Charge(Precision precision, ModelArchive? archive, LoadResult loaded)
    {
        long parameterBytes = loaded.ParameterBytes;
        // Storage records no parameter or buffer accounts for (constants, or a small tensor over a large record)
        // are held too. At fp16/bf16 the parameters were halved from the records' fp32.
        long unaccounted = archive is null ? 0 : Math.Max(0, archive.StorageBytes - (precision == Precision.Fp32 ? parameterBytes : 2 * parameterBytes));
        // CUDA: what the device really gave up (the caching allocator keeps the warm-up's blocks); never less
        // than the weights, in case the allocator had them cached already.
        return _device.IsCuda
            ? Math.Max(parameterBytes, loaded.DeviceGrowthBytes)
            : parameterBytes + unaccounted + loaded.WarmupBytes;
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

    private static DomainException TooLarge(AcceleratorSlice slice, string modelId, long needed, string how, long available) =>
        DomainException.Exhausted(
            $"model '{modelId}' needs {needed} bytes ({how}) but slice '{slice.Id}' has {Math.Max(0, available)} of its {slice.BudgetBytes} bytes " +
            "available, even after unloading every model that is not executing");
}
