using System.Diagnostics;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Metering;
using AccelBroker.Agent.Slices;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Grpc.Core;

namespace AccelBroker.Agent.Services;

/// <summary>
/// The one path a run takes, for the unary and the streaming call alike: the model's lease (reloading it when it
/// was evicted), the inputs, the execution (batched where the model batches), metering and the run's span. The
/// calls differ only in how inputs arrive and outputs leave: both carry a <see cref="RunRequest"/> and answer a
/// <see cref="RunResponse"/>, the streaming call with the tensors' bytes in chunks after them.
/// </summary>
internal sealed class RunPath
{
    private readonly SliceRegistry _slices;
    private readonly ModelResidency _residency;
    private readonly InferenceRunner _runner;
    private readonly InferenceMetering _metering;

    public RunPath(SliceRegistry slices, ModelResidency residency, InferenceRunner runner, InferenceMetering metering)
    {
        _slices = slices;
        _residency = residency;
        _runner = runner;
        _metering = metering;
    }

    /// <summary>
    /// Runs the request's model on its slice with the inputs <paramref name="receive"/> gives and hands the result
    /// to <paramref name="deliver"/>. A run that completed counts as done even if its outputs could not be
    /// delivered; one that failed before, as failed.
    /// </summary>
    public async Task<T> RunAsync<T>(
        RunRequest request,
        bool streaming,
        ServerCallContext context,
        Func<CancellationToken, ValueTask<List<WireTensor>>> receive,
        Func<ExecutionResult, Task<T>> deliver)
    {
        (string sliceId, string modelId) = (request.SliceId, request.ModelId);
        using Activity? activity = AgentTracing.StartRun(context, sliceId, modelId, streaming);
        try
        {
            CancellationToken cancellationToken = context.CancellationToken;
            AcceleratorSlice slice = _slices.Get(sliceId);
            LoadedModel model = await _residency.AcquireAsync(slice, modelId, cancellationToken);
            bool ran = false;
            try
            {
                List<WireTensor> inputs = await receive(cancellationToken);
                ExecutionResult result = await ExecuteAsync(slice, model, inputs, request.NativeOutputDtype, context.Deadline, cancellationToken);
                ran = true;
                _metering.Succeeded(slice, modelId, result.Timing);
                AgentTracing.Ran(activity, result.Timing);
                return await deliver(result);
            }
            catch (Exception) when (!ran && _metering.Failed(slice, modelId))
            {
                throw;
            }
            finally
            {
                model.Release();
            }
        }
        catch (Exception ex)
        {
            AgentTracing.Failed(activity, ex);
            throw;
        }
    }

    /// <summary>
    /// The response to a run: with <paramref name="includeData"/>, the outputs' bytes too (LZ4 where
    /// <paramref name="compress"/> and it shrinks them); without, only their metadata, for a streaming header.
    /// </summary>
    public RunResponse Response(ExecutionResult result, bool includeData, bool compress)
    {
        var response = new RunResponse { Kind = result.Kind, Timing = result.Timing, Device = _runner.Device.Label };
        foreach (WireTensor output in result.Outputs)
        {
            response.Outputs.Add(TensorProtos.Create(output.DataType, output.Shape, output.Data, compress, includeData));
        }

        return response;
    }

    // A batching model merges this run with concurrent ones; fp16/bf16 runs that want their native output dtype
    // run alone, since a batch's outputs are converted once for all.
    private Task<ExecutionResult> ExecuteAsync(AcceleratorSlice slice, LoadedModel model, List<WireTensor> inputs, bool nativeOutputDtype, DateTime deadline, CancellationToken cancellationToken) =>
        model.Batcher is { } batcher && (!nativeOutputDtype || model.CastType is null)
            ? batcher.RunAsync(inputs, deadline, cancellationToken)
            : _runner.RunAsync(model, slice.Id, slice.Assignment.ComputeShare, inputs, nativeOutputDtype, deadline, cancellationToken);
}
