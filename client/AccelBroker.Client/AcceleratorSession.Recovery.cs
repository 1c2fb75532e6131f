using System.Collections.Concurrent;
using System.Diagnostics;
using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Client;

// Recovery from a moved or lost agent: the placement the session calls, re-resolution with backoff within the call's
// deadline, and the reload of the session's models on a new agent.
public sealed partial class AcceleratorSession
{
    // SemaphoreSlim takes at most int.MaxValue milliseconds; an endless call timeout waits without one.
    private static readonly TimeSpan MaxGateWait = TimeSpan.FromMilliseconds(int.MaxValue);

    // By the model id the application holds (its RemoteModel's); the agent's id of it now is in LoadedModel.On.
    private readonly ConcurrentDictionary<string, LoadedModel> _models = new(StringComparer.Ordinal);

    /// <summary>
    /// Runs one application call: a token good for it, attempts on the current placement, one retry with a renewed token
    /// when the agent refuses the token, and on a moved or lost agent re-resolution through the broker (backoff, jitter)
    /// until the call succeeds or its deadline, fixed here, passes. Every attempt is rebuilt whole, streams included,
    /// and gets only what is left of the deadline.
    /// </summary>
    private async Task<T> WithRecoveryAsync<T>(Func<Placement, DateTime, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var budget = new CallBudget(_time, _options.CallTimeout);
        bool renewedAfterRefusal = false;
        int recoveries = 0;
        RpcException? agentError = null;
        RpcException? brokerError = null;
        Metadata.Entry sent = _token.Entry;
        Placement placement = CurrentPlacement();
        while (true)
        {
            if (agentError is not null)
            {
                brokerError = await ResolveAgainAsync(budget, recoveries++, sent, placement, agentError, brokerError, cancellationToken);
            }

            try
            {
                await _token.EnsureFreshAsync(cancellationToken);
            }
            catch (RpcException ex) when (agentError is not null && IsBrokerFailure(ex, cancellationToken))
            {
                // The token expired while the agent was lost, and the broker cannot renew it: the broker is down too.
                brokerError = FinalUnlessUnreachable(ex, placement, agentError);
                continue;
            }

            sent = _token.Entry;
            placement = CurrentPlacement();
            try
            {
                T result = await call(placement, budget.GrpcDeadline, cancellationToken);
                if (recoveries > 0)
                {
                    Recovered(placement, recoveries);
                }

                return result;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated && !renewedAfterRefusal && ex is not ModelRecoveryException)
            {
                // Rotated keys, an agent restarted without them, a clock that ran ahead, or a new agent that the old
                // agent's token is not for: the renewed resolution may name another placement, which the next attempt uses.
                renewedAfterRefusal = true;
                await _token.RenewAfterRefusalAsync(sent, cancellationToken);
                if (!ReferenceEquals(CurrentPlacement(), placement))
                {
                    recoveries++;
                }
            }
            catch (RpcException ex) when (RecoverableFailure.Is(ex) && !cancellationToken.IsCancellationRequested)
            {
                agentError = ex;
            }
        }
    }

    /// <summary>
    /// After a failed attempt: waits out the backoff, then asks the broker where the accelerator is now (one resolution
    /// for every call that failed with the same token). Returns the broker's error, if it failed; throws once the
    /// call's deadline has passed.
    /// </summary>
    private async Task<RpcException?> ResolveAgainAsync(
        CallBudget budget, int retry, Metadata.Entry sent, Placement placement, RpcException agentError, RpcException? brokerError, CancellationToken cancellationToken)
    {
        TimeSpan delay = budget.DelayBefore(retry, Random.Shared.NextDouble());
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, _time, cancellationToken);
        }

        if (budget.Expired)
        {
            throw NotRecovered(placement, agentError, brokerError);
        }

        try
        {
            await _token.RenewAfterRefusalAsync(sent, cancellationToken).WaitAsync(budget.Remaining, _time, cancellationToken);
            return null;
        }
        catch (TimeoutException)
        {
            throw NotRecovered(placement, agentError, brokerError);
        }
        catch (RpcException ex) when (IsBrokerFailure(ex, cancellationToken))
        {
            return FinalUnlessUnreachable(ex, placement, agentError);
        }
    }

    private static bool IsBrokerFailure(RpcException error, CancellationToken cancellationToken) =>
        error.StatusCode != StatusCode.Cancelled && !cancellationToken.IsCancellationRequested;

    /// <summary>
    /// A broker that cannot be reached, or has no agent for the accelerator yet, is asked again within the deadline;
    /// any other answer (detached: NotFound; a revoked credential) is final and thrown, naming both failures.
    /// </summary>
    private static RpcException FinalUnlessUnreachable(RpcException brokerError, Placement placement, RpcException agentError)
    {
        if (brokerError.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown
            or StatusCode.FailedPrecondition or StatusCode.ResourceExhausted)
        {
            return brokerError;
        }

        throw new RpcException(new Status(
            brokerError.StatusCode,
            $"accelerator {placement.Info.Id} is no longer served by agent {placement.Info.AgentAddress} ({agentError.StatusCode}, {agentError.Status.Detail}), " +
            $"and the broker could not say where it is: {brokerError.Status.Detail}"));
    }

    /// <summary>The placement the broker's last resolution names, swapped whole when it names another agent or epoch.</summary>
    private Placement CurrentPlacement()
    {
        Protocol.V1.Accelerator resolved = _token.Accelerator;
        Placement current = Volatile.Read(ref _placement);
        if (current.Matches(resolved))
        {
            return current;
        }

        Placement next = PlacementOf(resolved);
        Placement seen = Interlocked.CompareExchange(ref _placement, next, current);
        return ReferenceEquals(seen, current) ? next : seen;
    }

    private Placement PlacementOf(Protocol.V1.Accelerator resolved)
    {
        var channel = AgentChannels.Get(resolved.AgentAddress, _options.ConnectTimeout, _options.CaFile);
        return new Placement(Placement.InfoOf(resolved), resolved.AgentId, resolved.Epoch, Intercepted(channel, _options, _token));
    }

    /// <summary>
    /// The agent's id of <paramref name="model"/> on <paramref name="placement"/>, loading it there first (with the bytes and
    /// options it was loaded with) when the accelerator has moved since: once, however many calls need it at the same time.
    /// </summary>
    private async Task<string> ModelIdOnAsync(RemoteModel model, Placement placement, DateTime deadline, CancellationToken cancellationToken)
    {
        if (!_models.TryGetValue(model.ModelId, out LoadedModel? kept))
        {
            return model.ModelId;
        }

        if (kept.On is { } on && ReferenceEquals(on.Placement, placement))
        {
            return on.ModelId;
        }

        TimeSpan wait = deadline - _time.GetUtcNow().UtcDateTime;
        if (wait > MaxGateWait)
        {
            wait = Timeout.InfiniteTimeSpan;
        }

        if (wait == TimeSpan.Zero || (wait < TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan) || !await kept.Gate.WaitAsync(wait, cancellationToken))
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"model {model.ModelId} was still being loaded on agent {placement.Info.AgentAddress} when the call's deadline passed"));
        }

        try
        {
            if (kept.On is { } loaded && ReferenceEquals(loaded.Placement, placement))
            {
                return loaded.ModelId;
            }

            RemoteModel reloaded = await LoadCoreAsync(placement, kept, (agent, d, ct) => UploadKeptAsync(agent, model, kept, d, ct), deadline, cancellationToken);
            kept.On = new ModelOnAgent(placement, reloaded.ModelId);
            return reloaded.ModelId;
        }
        finally
        {
            kept.Gate.Release();
        }
    }

    private async Task UploadKeptAsync(InferenceAgent.InferenceAgentClient agent, RemoteModel model, LoadedModel kept, DateTime deadline, CancellationToken cancellationToken)
    {
        if (kept.Path is { } path)
        {
            (string sha256, long length) = await ModelHashes.OfFileAsync(path, cancellationToken);
            if (!string.Equals(sha256, kept.Sha256, StringComparison.Ordinal))
            {
                throw new ModelRecoveryException(
                    $"model {model.ModelId} cannot be loaded on the accelerator's new agent: its file {path} has changed since it was loaded " +
                    $"(SHA-256 {kept.Sha256} then, {sha256} now); load the file again for a model of the new bytes");
            }

            await ModelUploader.UploadFileAsync(agent, path, sha256, length, _options.Compression, deadline, cancellationToken);
        }
        else if (kept.Bytes is { } bytes)
        {
            await ModelUploader.UploadBytesAsync(agent, bytes, kept.Sha256, _options.Compression, deadline, cancellationToken);
        }
        else
        {
            throw new ModelRecoveryException(
                $"model {model.ModelId} cannot be loaded on the accelerator's new agent: it was loaded from bytes and " +
                $"{nameof(AcceleratorSessionOptions.KeepModelBytesForRecovery)} is off, so the session did not keep them; load it again");
        }
    }

    // One copy per distinct model in the session, whatever the number of loads (aliases, precisions) of it.
    private byte[] KeptBytes(string sha256, ReadOnlyMemory<byte> model)
    {
        foreach (LoadedModel kept in _models.Values)
        {
            if (kept.Bytes is { } bytes && string.Equals(kept.Sha256, sha256, StringComparison.Ordinal))
            {
                return bytes;
            }
        }

        return model.ToArray();
    }

    private static void Recovered(Placement placement, int attempts)
    {
        RecoveryMetrics.Recoveries.Add(1);
        Activity? activity = Activity.Current;
        if (activity is not null && activity.Source == AcceleratorTracing.Source)
        {
            activity.SetTag("accel.recovered", true);
            activity.AddEvent(new ActivityEvent("accel.recovered", tags: new ActivityTagsCollection
            {
                ["accel.agent_address"] = placement.Info.AgentAddress,
                ["accel.epoch"] = placement.Epoch,
                ["accel.attempts"] = attempts,
            }));
        }
    }

    private RpcException NotRecovered(Placement placement, RpcException agentError, RpcException? brokerError)
    {
        string message = $"accelerator {placement.Info.Id} did not recover within the call's {_options.CallTimeout.TotalSeconds:0.###} s: " +
            $"agent {placement.Info.AgentAddress}: {agentError.StatusCode}, {agentError.Status.Detail}" +
            (brokerError is null ? "" : $"; broker {_brokerAddress}: {brokerError.StatusCode}, {brokerError.Status.Detail}");
        return new RpcException(new Status(StatusCode.Unavailable, message));
    }
}
