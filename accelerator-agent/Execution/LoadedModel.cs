using AccelBroker.Agent.Execution.Batching;
using AccelBroker.Agent.Isolation;
using AccelBroker.Protocol.V1;
using TorchSharp;

namespace AccelBroker.Agent.Execution;

/// <summary>
/// A TorchScript module loaded onto a slice's device, in the slice's worker process. Runs hold a lease, so
/// unloading frees the module in the worker only after the last in-flight run returns.
/// </summary>
internal sealed class LoadedModel
{
    private readonly object _gate = new();
    private int _leases;
    private bool _retired;

    public LoadedModel(string modelId, string sha256, long byteLength, Precision precision, WorkerProcess worker, int handle, DateTimeOffset loadedAt)
    {
        ModelId = modelId;
        Sha256 = sha256;
        ByteLength = byteLength;
        Precision = precision;
        Worker = worker;
        Handle = handle;
        LoadedAt = loadedAt;
    }

    public string ModelId { get; }

    public string Sha256 { get; }

    public long ByteLength { get; }

    public Precision Precision { get; }

    /// <summary>The process that holds the module.</summary>
    public WorkerProcess Worker { get; }

    /// <summary>The module's handle in <see cref="Worker"/>.</summary>
    public int Handle { get; }

    /// <summary>False once the worker process is gone: the module went with it.</summary>
    public bool IsAlive => Worker.IsAlive;

    public DateTimeOffset LoadedAt { get; }

    /// <summary>Merges concurrent runs when the model was loaded with batching; set once, before runs can find the model.</summary>
    public DynamicBatcher? Batcher { get; init; }

    /// <summary>dtype floating inputs are cast to, or null for fp32 (inputs keep their own type).</summary>
    public torch.ScalarType? CastType => CastTypeOf(Precision);

    /// <summary>dtype floating tensors of a model at <paramref name="precision"/> are cast to, or null for fp32.</summary>
    public static torch.ScalarType? CastTypeOf(Precision precision) => precision switch
    {
        Precision.Fp16 => torch.ScalarType.Float16,
        Precision.Bf16 => torch.ScalarType.BFloat16,
        _ => null,
    };

    /// <summary>
    /// Readies a freshly loaded module to execute at <paramref name="precision"/>: evaluation mode, no gradients,
    /// floating weights cast. Workers and <see cref="Inference.PreparedModel"/> (the CLI's in-process benchmark) both use it, so they run the same model.
    /// </summary>
    public static void PrepareForInference(torch.jit.ScriptModule module, Precision precision)
    {
        module.eval();
        // The TorchScript executor keeps the grad mode of its first call; no parameter may require grad.
        foreach (var parameter in module.parameters())
        {
            parameter.requires_grad = false;
        }

        switch (precision)
        {
            case Precision.Fp16:
                module.half();
                break;
            case Precision.Bf16:
                module.bfloat16();
                break;
        }
    }

    public static string IdFor(string sha256, Precision precision, string alias = "") =>
        alias.Length == 0
            ? $"{sha256[..16]}-{precision.ToString().ToLowerInvariant()}"
            : $"{sha256[..16]}-{precision.ToString().ToLowerInvariant()}-{alias}";

    /// <summary>Whether no run holds the model now (a snapshot; <see cref="TryRetireIfIdle"/> decides atomically).</summary>
    public bool IsIdle
    {
        get
        {
            lock (_gate)
            {
                return _leases == 0 && !_retired;
            }
        }
    }

    public bool TryAcquire()
    {
        lock (_gate)
        {
            if (_retired)
            {
                return false;
            }

            _leases++;
            return true;
        }
    }

    public void Release()
    {
        bool dispose;
        lock (_gate)
        {
            _leases--;
            dispose = _retired && _leases == 0;
        }

        if (dispose)
        {
            Dispose();
        }
    }

    /// <summary>
    /// Retires the model only if no run holds it, atomically with respect to <see cref="TryAcquire"/>: eviction
    /// never takes a model from under a running forward pass.
    /// </summary>
    public bool TryRetireIfIdle()
    {
        lock (_gate)
        {
            if (_retired || _leases > 0)
            {
                return false;
            }

            _retired = true;
        }

        Dispose();
        return true;
    }

    /// <summary>Stops new runs; the module is disposed now or when the last run releases it.</summary>
    public void Retire()
    {
        bool dispose;
        lock (_gate)
        {
            if (_retired)
            {
                return;
            }

            _retired = true;
            dispose = _leases == 0;
        }

        if (dispose)
        {
            Dispose();
        }
    }

    // Requests still queued in the batcher are cancelled; their callers hold leases, so none is queued here.
    private void Dispose()
    {
        if (Batcher is not null)
        {
            _ = Batcher.DisposeAsync().AsTask();
        }

        Worker.Unload(Handle);
    }
}
