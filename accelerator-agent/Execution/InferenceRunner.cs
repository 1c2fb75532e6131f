using System.Diagnostics;
using AccelBroker.Agent.Devices;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using TorchSharp;

namespace AccelBroker.Agent.Execution;

/// <summary>
/// Runs forward passes. Only as many run at once as the scheduler has slots, because libtorch's intra-op
/// thread pool is process-wide and concurrent passes would oversubscribe the cores; the slots go to slices
/// by their compute shares.
/// </summary>
internal sealed class InferenceRunner
{
    private readonly ComputeScheduler _scheduler;
    private readonly ComputeDevice _device;
    private readonly TimeProvider _time;

    public InferenceRunner(ComputeDevice device, ComputeScheduler scheduler, TimeProvider time)
    {
        _device = device;
        _scheduler = scheduler;
        _time = time;
    }

    public ComputeDevice Device => _device;

    /// <summary>Runs once, when the scheduler grants <paramref name="sliceId"/> a slot; its queue time is the wait for it.</summary>
    /// <param name="sliceId">Who the execution time is charged to: a slice, or <see cref="LocalBenchmark.ComputeTenant"/>.</param>
    /// <param name="share">That tenant's compute share, in (0, 1].</param>
    public async Task<ExecutionResult> RunAsync(LoadedModel model, string sliceId, double share, IReadOnlyList<WireTensor> inputs, bool nativeOutputDtype, DateTime deadline, CancellationToken cancellationToken)
    {
        long queued = _time.GetTimestamp();
        // A forward pass cannot be cancelled once started: refuse work whose deadline has passed.
        ThrowIfPast(deadline, "before it was queued");
        using ComputeLease lease = await _scheduler.AcquireAsync(sliceId, share, cancellationToken);
        ThrowIfPast(deadline, "while it was queued");
        double queueSeconds = _time.GetElapsedTime(queued).TotalSeconds;
        return Execute(model, inputs, nativeOutputDtype, queueSeconds);
    }

    /// <summary>
    /// Runs other device work of <paramref name="sliceId"/> (a load and its warm-up) when the scheduler grants it a
    /// slot, charged to it like a run: it neither oversubscribes the cores nor takes another slice's share.
    /// </summary>
    public async Task<T> WithSlotAsync<T>(string sliceId, double share, Func<T> work, CancellationToken cancellationToken)
    {
        using ComputeLease lease = await _scheduler.AcquireAsync(sliceId, share, cancellationToken);
        return work();
    }

    /// <summary>
    /// Runs once on inputs of zeros, so the first real call does not pay for graph optimisation. Returns the bytes
    /// of the inputs and outputs it held: a floor for the memory a run of these shapes needs.
    /// </summary>
    public long WarmUp(torch.jit.ScriptModule module, torch.ScalarType? castFloating, IReadOnlyList<TensorSpec> specs)
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        var inputs = specs.Select(spec =>
        {
            torch.Tensor zeros = torch.zeros(spec.Shape.ToArray(), TorchTensorCodec.ToScalarType(spec.Dtype), _device.TorchDevice);
            return castFloating is { } cast && zeros.is_floating_point() ? zeros.to(cast) : zeros;
        }).ToList();
        object? result = module.call([.. inputs.Cast<object>()]);
        (_, List<torch.Tensor> outputs) = TorchTensorCodec.Flatten(result);
        return inputs.Concat(outputs).Sum(t => t.NumberOfElements * t.ElementSize);
    }

    // Synchronous on purpose: dispose scopes and inference mode are thread-local, so no await may happen inside.
    private ExecutionResult Execute(LoadedModel model, IReadOnlyList<WireTensor> inputs, bool nativeOutputDtype, double queueSeconds)
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();

        long started = Stopwatch.GetTimestamp();
        object[] args = new object[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            args[i] = TorchTensorCodec.ToTorch(inputs[i], _device.TorchDevice, model.CastType);
        }

        long decoded = Stopwatch.GetTimestamp();
        object? result;
        try
        {
            result = model.Module.call(args);
        }
        catch (Exception ex) when (ex is not RpcException and not OperationCanceledException)
        {
            throw TorchErrors.ToRpc(ex, "the model rejected its inputs");
        }

        long computed = Stopwatch.GetTimestamp();
        (OutputKind kind, List<torch.Tensor> tensors) = TorchTensorCodec.Flatten(result);
        var outputs = new WireTensor[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            outputs[i] = TorchTensorCodec.FromTorch(tensors[i], model.CastType, nativeOutputDtype);
        }

        long encoded = Stopwatch.GetTimestamp();
        var timing = new RunTiming
        {
            QueueSeconds = queueSeconds,
            DecodeSeconds = Stopwatch.GetElapsedTime(started, decoded).TotalSeconds,
            ComputeSeconds = Stopwatch.GetElapsedTime(decoded, computed).TotalSeconds,
            EncodeSeconds = Stopwatch.GetElapsedTime(computed, encoded).TotalSeconds,
        };
        return new ExecutionResult(kind, outputs, timing);
    }

    private void ThrowIfPast(DateTime deadline, string when)
    {
        if (deadline != DateTime.MaxValue && _time.GetUtcNow().UtcDateTime >= deadline)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"the call's deadline passed {when}; the model was not run"));
        }
    }
}
