using System.Diagnostics;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Metering;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Grpc.Core;

namespace AccelBroker.Agent.Services;

/// <summary>
/// The one path a run takes, for the unary and the streaming call alike: a place in its slice's queue, the model's
/// lease (reloading it when it was evicted), the inputs, the execution (batched where the model batches), metering
/// and the run's span. The calls differ only in how inputs arrive and outputs leave: both carry a
/// <see cref="RunRequest"/> and answer a <see cref="RunResponse"/>, the streaming call with the tensors' bytes in
/// chunks after them.
/// </summary>
internal sealed class RunPath
{
    private readonly SliceRegistry _slices;
    private readonly ModelResidency _residency;
    private readonly InferenceRunner _runner;
    private readonly InferenceMetering _metering;
    private readonly TimeProvider _time;
    private readonly int _maxQueue;

    // The caller's deadline runs from when it sent the call, the server's from when the call arrived: the caller gives
    // up (and cancels) a little before the server's deadline. A cancellation this close to it is the deadline's.
    private static readonly TimeSpan CallerDeadlineLead = TimeSpan.FromSeconds(1);

    public RunPath(SliceRegistry slices, ModelResidency residency, InferenceRunner runner, InferenceMetering metering, AgentOptions options, TimeProvider time)
    {
        _slices = slices;
        _residency = residency;
        _runner = runner;
        _metering = metering;
        _time = time;
        _maxQueue = options.MaxQueuePerSlice;
    }

    /// <summary>
    /// Runs the request's model on its slice with the inputs <paramref name="receive"/> gives and hands the result
    /// to <paramref name="deliver"/>. A run that completed counts as done even if its outputs could not be
    /// delivered; one that failed before, as failed; one refused by a full queue or dropped past its deadline before
    /// it executed, as that.
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
            if (!slice.TryGetModel(modelId, out _))
            {
                throw slice.UnknownModel(modelId);
            }

            using QueueTicket ticket = Admit(slice, modelId);
            try
            {
                return await RunAdmittedAsync(slice, request, ticket, context, receive, deliver, activity, cancellationToken);
            }
            catch (Exception ex) when (IsDropped(ex, ticket, context.Deadline) && _metering.DroppedDeadline(slice, modelId))
            {
                throw;
            }
            catch (OperationCanceledException ex) when (IsDropped(ex, ticket, context.Deadline))
            {
                // The call was cancelled at its deadline while it waited: say so, rather than "cancelled".
                throw DomainException.Deadline("the call's deadline passed while it was queued; the model was not run");
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

    // Before the model is acquired or any input read: a refused run takes no slot, no memory and no waiter. The
    // message does not end in "; retry later", which the client library retries during recovery: an overloaded
    // slice is the caller's to see (a load generator counts it), not the session's to hide.
    private QueueTicket Admit(AcceleratorSlice slice, string modelId)
    {
        if (slice.Queue.TryEnter(_maxQueue) is { } ticket)
        {
            return ticket;
        }

        _metering.RejectedQueueFull(slice, modelId);
        throw DomainException.Exhausted(
            $"slice {slice.Id} queue is full (max-queue-per-slice = {_maxQueue}); refused without waiting, send fewer runs at once");
    }

    private async Task<T> RunAdmittedAsync<T>(
        AcceleratorSlice slice,
        RunRequest request,
        QueueTicket ticket,
        ServerCallContext context,
        Func<CancellationToken, ValueTask<List<WireTensor>>> receive,
        Func<ExecutionResult, Task<T>> deliver,
        Activity? activity,
        CancellationToken cancellationToken)
    {
        string modelId = request.ModelId;
        LoadedModel model = await _residency.AcquireAsync(slice, modelId, cancellationToken);
        bool ran = false;
        try
        {
            List<WireTensor> inputs = await receive(cancellationToken);
            ExecutionResult result = await ExecuteAsync(slice, model, inputs, request.NativeOutputDtype, context.Deadline, ticket.Start, cancellationToken);
            ran = true;
            _metering.Succeeded(slice, modelId, result.Timing);
            AgentTracing.Ran(activity, result.Timing);
            return await deliver(result);
        }
        catch (Exception ex) when (!ran && !IsDropped(ex, ticket, context.Deadline) && _metering.Failed(slice, modelId))
        {
            throw;
        }
        finally
        {
            model.Release();
        }
    }

    // Dropped for its deadline before it executed: the agent refused it past the deadline, or the call was cancelled
    // at it. A stream's idle limit is DeadlineExceeded too, but with the call's own deadline still ahead.
    private bool IsDropped(Exception ex, QueueTicket ticket, DateTime deadline)
    {
        if (ticket.Started || deadline == DateTime.MaxValue)
        {
            return false;
        }

        DateTime now = _time.GetUtcNow().UtcDateTime;
        return ex switch
        {
            DomainException { Kind: DomainErrorKind.DeadlineExceeded } => now >= deadline,
            OperationCanceledException => now + CallerDeadlineLead >= deadline,
            _ => false,
        };
    }

    // A batching model merges this run with concurrent ones; fp16/bf16 runs that want their native output dtype
    // run alone, since a batch's outputs are converted once for all.
    private Task<ExecutionResult> ExecuteAsync(AcceleratorSlice slice, LoadedModel model, List<WireTensor> inputs, bool nativeOutputDtype, DateTime deadline, Action started, CancellationToken cancellationToken) =>
        model.Batcher is { } batcher && (!nativeOutputDtype || model.CastType is null)
            ? batcher.RunAsync(inputs, deadline, started, cancellationToken)
            : _runner.RunAsync(model, slice.Id, slice.Assignment.ComputeShare, inputs, nativeOutputDtype, deadline, started, cancellationToken);
}
