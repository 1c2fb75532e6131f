using System.Collections.Concurrent;
using System.Diagnostics;
using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Inference;
using AccelBroker.Agent.Isolation.Protocol;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using TorchSharp;

namespace AccelBroker.Agent.Isolation.Worker;

/// <summary>
/// The TorchScript modules one worker holds, by the handles the agent gave them, and the loads, warm-ups and
/// forward passes on them. Everything here runs in the worker process: a model that crashes libtorch takes only
/// this process, and reads past its buffers find only this slice's memory.
/// </summary>
internal sealed class WorkerModels
{
    private readonly ComputeDevice _device;
    private readonly DeviceMemoryProbe _probe;
    private readonly ConcurrentDictionary<int, Held> _held = new();
    private readonly WorkerLanes _lanes = new();

    public WorkerModels(ComputeDevice device)
    {
        _device = device;
        _probe = new DeviceMemoryProbe(device);
    }

    public LoadResult Load(LoadCommand command)
    {
        var precision = (Precision)command.Precision;
        long deviceBefore = _device.IsCuda ? _probe.Begin() : 0;
        long started = Stopwatch.GetTimestamp();
        // Parameter tensors that loading, preparing and measuring hand out hold their storages until disposed: the
        // scope frees them, so an unloaded model's memory goes back at once rather than at some later GC.
        using var scope = torch.NewDisposeScope();
        torch.jit.ScriptModule module = LoadModule(command.Path, precision);
        double loadSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        try
        {
            var result = new LoadResult { LoadSeconds = loadSeconds, ParameterBytes = ModelFootprint.ParameterAndBufferBytes(module) };
            if (command.Warmup.Count > 0)
            {
                long peakBefore = _device.IsCuda ? 0 : _probe.Begin();
                long warm = Stopwatch.GetTimestamp();
                long tensorBytes;
                try
                {
                    tensorBytes = WarmUp(module, LoadedModel.CastTypeOf(precision), command.Warmup);
                }
                catch (Exception ex) when (ex is not DomainException)
                {
                    throw TorchErrors.ToDomain(ex, "warm-up run failed");
                }

                result.WarmupSeconds = Stopwatch.GetElapsedTime(warm).TotalSeconds;
                // The allocator may reuse pages that are already resident, so RSS growth can miss what the run
                // held; the warm-up's own inputs and outputs are a floor. This process holds one slice only.
                result.WarmupBytes = _device.IsCuda ? 0 : Math.Max(_probe.GrowthSince(peakBefore), tensorBytes);
            }

            result.DeviceGrowthBytes = _device.IsCuda ? _probe.GrowthSince(deviceBefore) : 0;
            if (!_held.TryAdd(command.Handle, new Held(module, precision)))
            {
                throw DomainException.Internal($"worker handle {command.Handle} is in use");
            }

            return result;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    public void Unload(int handle)
    {
        if (_held.TryRemove(handle, out Held? held))
        {
            held.Module.Dispose();
            // glibc keeps freed memory for reuse; give it back, so an unloaded model's memory leaves the process.
            LibC.TrimHeap();
        }
    }

    // Synchronous on purpose: dispose scopes and inference mode are thread-local, so no await may happen inside.
    public RunResult Run(RunCommand command)
    {
        if (!_held.TryGetValue(command.Handle, out Held? held))
        {
            throw DomainException.Internal($"worker holds no model under handle {command.Handle}");
        }

        torch.ScalarType? cast = LoadedModel.CastTypeOf(held.Precision);
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        long started = Stopwatch.GetTimestamp();
        SharedLane input = _lanes.Input(command.InputLane);
        object[] args = new object[command.Inputs.Count];
        for (int i = 0; i < args.Length; i++)
        {
            LaneTensor tensor = command.Inputs[i];
            try
            {
                args[i] = TorchTensorCodec.OnDevice(View(tensor, input), _device.TorchDevice, cast);
            }
            catch (Exception ex) when (ex is not (DomainException or InvalidDataException))
            {
                // libtorch refusing a shape the agent let through must answer the caller, not end this worker.
                throw TorchErrors.ToDomain(ex, $"input {i} cannot be made a tensor");
            }
        }

        long decoded = Stopwatch.GetTimestamp();
        object? result;
        try
        {
            result = held.Module.call(args);
        }
        catch (Exception ex) when (ex is not DomainException)
        {
            throw TorchErrors.ToDomain(ex, "the model rejected its inputs");
        }

        long computed = Stopwatch.GetTimestamp();
        (OutputKind kind, List<torch.Tensor> tensors) = TorchTensorCodec.Flatten(result);
        var hosts = new (DataType DataType, torch.Tensor Tensor)[tensors.Count];
        long needed = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            hosts[i] = TorchTensorCodec.ToHost(tensors[i], cast, command.NativeOutputDtype);
            needed = SharedLane.Align(needed) + (hosts[i].Tensor.NumberOfElements * hosts[i].Tensor.ElementSize);
        }

        (SharedLane output, LaneRef outputRef) = _lanes.Output(command.InputLane.Lane, needed);
        var reply = new RunResult { Kind = (int)kind, OutputLane = outputRef };
        long offset = 0;
        foreach ((DataType dataType, torch.Tensor tensor) in hosts)
        {
            offset = SharedLane.Align(offset);
            long length = tensor.NumberOfElements * tensor.ElementSize;
            if (length > 0)
            {
                tensor.bytes.CopyTo(output.Span(offset, length));
            }

            var described = new LaneTensor { Dtype = (int)dataType, Offset = offset, Length = length };
            described.Shape.AddRange(tensor.shape);
            reply.Outputs.Add(described);
            offset += length;
        }

        long encoded = Stopwatch.GetTimestamp();
        reply.DecodeSeconds = Stopwatch.GetElapsedTime(started, decoded).TotalSeconds;
        reply.ComputeSeconds = Stopwatch.GetElapsedTime(decoded, computed).TotalSeconds;
        reply.EncodeSeconds = Stopwatch.GetElapsedTime(computed, encoded).TotalSeconds;
        return reply;
    }

    // The input stays in the lane: the tensor is a view of it, checked to cover exactly its shape's bytes.
    private static torch.Tensor View(LaneTensor tensor, SharedLane lane)
    {
        var dataType = (DataType)tensor.Dtype;
        torch.ScalarType type = TorchTensorCodec.ToScalarType(dataType);
        if (!tensor.MakesTensor())
        {
            throw new InvalidDataException($"lane tensor of {tensor.Length} bytes does not hold {DataTypeSizes.Name(dataType)}{DataTypeSizes.FormatShape(tensor.Shape)}");
        }

        return LaneTensorView.Create(type, [.. tensor.Shape], lane.Span(tensor.Offset, tensor.Length));
    }

    /// <summary>Leaves the answer to a run in its input lane's doorbell, if the agent still watches it there.</summary>
    public bool TryAnswerInLane(LaneRef lane, WorkerReply reply)
    {
        try
        {
            return ReplyDoorbell.TryRing(_lanes.Input(lane), reply);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            // The lane could not be mapped (the run failed for it): the pipe carries the answer.
            return false;
        }
    }

    // From the store's file: libtorch reads it itself, so no managed copy of the model's bytes is ever made.
    private torch.jit.ScriptModule LoadModule(string path, Precision precision) =>
        PreparedModel.LoadModule(path, _device.DeviceType, _device.Index, precision);

    /// <summary>
    /// Runs once on inputs of zeros, so the first real call does not pay for graph optimisation. Returns the bytes
    /// of the inputs and outputs it held: a floor for the memory a run of these shapes needs.
    /// </summary>
    private long WarmUp(torch.jit.ScriptModule module, torch.ScalarType? castFloating, IEnumerable<ShapeSpec> specs)
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        var inputs = specs.Select(spec =>
        {
            torch.Tensor zeros = torch.zeros([.. spec.Shape], TorchTensorCodec.ToScalarType((DataType)spec.Dtype), _device.TorchDevice);
            return castFloating is { } cast && zeros.is_floating_point() ? zeros.to(cast) : zeros;
        }).ToList();
        object? result = module.call([.. inputs.Cast<object>()]);
        (_, List<torch.Tensor> outputs) = TorchTensorCodec.Flatten(result);
        return inputs.Concat(outputs).Sum(t => t.NumberOfElements * t.ElementSize);
    }

    private sealed record Held(torch.jit.ScriptModule Module, Precision Precision);
}
