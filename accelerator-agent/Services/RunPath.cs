using System.Diagnostics;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Metering;
using AccelBroker.Agent.Slices;
using Grpc.Core;

namespace AccelBroker.Agent.Services;

/// <summary>
/// The one path a run takes, for the unary and the streaming call alike: the model's lease (reloading it when it
/// was evicted), the inputs, the execution (batched where the model batches), metering and the run's span. The
/// calls differ only in how inputs arrive and outputs leave.
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
    /// Runs <paramref name="modelId"/> on <paramref name="sliceId"/> with the inputs <paramref name="receive"/> gives and
    /// hands the result to <paramref name="deliver"/>. A run that completed counts as done even if its outputs could
    /// not be delivered; one that failed before, as failed.
    /// </summary>
    public async Task<T> RunAsync<T>(
        string sliceId,
        string modelId,
        bool nativeOutputDtype,
        bool streaming,
        ServerCallContext context,
        Func<CancellationToken, ValueTask<List<WireTensor>>> receive,
        Func<ExecutionResult, Task<T>> deliver)
    {
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
                ExecutionResult result = await ExecuteAsync(slice, model, inputs, nativeOutputDtype, context.Deadline, cancellationToken);
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

    // A batching model merges this run with concurrent ones; fp16/bf16 runs that want their native output dtype
    // run alone, since a batch's outputs are converted once for all.
    private Task<ExecutionResult> ExecuteAsync(AcceleratorSlice slice, LoadedModel model, List<WireTensor> inputs, bool nativeOutputDtype, DateTime deadline, CancellationToken cancellationToken) =>
        model.Batcher is { } batcher && (!nativeOutputDtype || model.CastType is null)
            ? batcher.RunAsync(inputs, deadline, cancellationToken)
            : _runner.RunAsync(model, slice.Id, slice.Assignment.ComputeShare, inputs, nativeOutputDtype, deadline, cancellationToken);
}
