using System.Diagnostics;
using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Slices;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace AccelBroker.Agent.Execution;

/// <summary>Loads held model bytes onto a slice's device, ready for inference.</summary>
internal sealed class ModelLoader
{
    private readonly ModelStore _store;
    private readonly InferenceRunner _runner;
    private readonly ComputeDevice _device;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelLoader> _logger;

    public ModelLoader(ModelStore store, InferenceRunner runner, ComputeDevice device, TimeProvider time, ILogger<ModelLoader> logger)
    {
        _store = store;
        _runner = runner;
        _device = device;
        _time = time;
        _logger = logger;
    }

    public async Task<LoadModelResponse> LoadAsync(AcceleratorSlice slice, LoadModelRequest request, CancellationToken cancellationToken)
    {
        string sha256 = Validate(request.Sha256, request.Precision);
        string modelId = LoadedModel.IdFor(sha256, request.Precision);
        if (slice.Models.ContainsKey(modelId))
        {
            return new LoadModelResponse { ModelId = modelId, Loaded = false, Device = _device.Label };
        }

        await slice.LoadGate.WaitAsync(cancellationToken);
        try
        {
            if (slice.Models.ContainsKey(modelId))
            {
                return new LoadModelResponse { ModelId = modelId, Loaded = false, Device = _device.Label };
            }

            byte[] bytes = _store.Read(sha256);
            long started = Stopwatch.GetTimestamp();
            torch.jit.ScriptModule module = Load(bytes, request.Precision);
            double loadSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

            var model = new LoadedModel(modelId, sha256, bytes.LongLength, request.Precision, module, _time.GetUtcNow());
            double warmupSeconds = 0;
            if (request.WarmupInputs.Count > 0)
            {
                long warm = Stopwatch.GetTimestamp();
                try
                {
                    _runner.WarmUp(module, model.CastType, request.WarmupInputs);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    module.Dispose();
                    throw ex is RpcException rpc ? rpc : TorchErrors.ToRpc(ex, "warm-up run failed");
                }

                warmupSeconds = Stopwatch.GetElapsedTime(warm).TotalSeconds;
            }

            slice.Models[modelId] = model;
            AgentLog.ModelLoaded(_logger, modelId, slice.Id, _device.Label, loadSeconds * 1000);
            return new LoadModelResponse
            {
                ModelId = modelId,
                Loaded = true,
                LoadSeconds = loadSeconds,
                WarmupSeconds = warmupSeconds,
                Device = _device.Label,
            };
        }
        finally
        {
            slice.LoadGate.Release();
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

    private static string Validate(string requestedSha256, Precision precision)
    {
        string sha256 = requestedSha256.ToLowerInvariant();
        if (!ModelStore.IsSha256(sha256))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"sha256 must be 64 hex digits, got '{requestedSha256}'"));
        }

        if (!Enum.IsDefined(precision))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"unknown precision {(int)precision}"));
        }

        return sha256;
    }

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

            return module;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            module.Dispose();
            throw TorchErrors.ToRpc(ex, $"cannot prepare the model for {precision}");
        }
    }
}
