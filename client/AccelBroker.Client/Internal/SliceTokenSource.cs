using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>
/// The slice token of one session: the header every agent call carries, renewed by resolving the accelerator again
/// once 80 % of the token's life has passed (in the background while the token is still good, awaited once it is
/// not), and on demand when the agent refuses it. One renewal at a time; the application never sees one.
/// </summary>
internal sealed class SliceTokenSource
{
    private const double RenewAtFraction = 0.8;

    // Close to expiry a call waits for the renewal rather than leave with a token that could expire in flight.
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(2);

    // After a failed background renewal, calls go on with the still-good token a while before asking again.
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly Func<CancellationToken, Task<ResolveAcceleratorResponse>> _resolve;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private State _state;
    private Task? _renewal;
    private long _retryAfterTicks;

    public SliceTokenSource(ResolveAcceleratorResponse resolved, Func<CancellationToken, Task<ResolveAcceleratorResponse>> resolve, TimeProvider time)
    {
        _resolve = resolve;
        _time = time;
        _state = StateOf(resolved, time.GetUtcNow());
    }

    /// <summary>Headers with the current token, for a call that sets none of its own.</summary>
    public Metadata Headers => Volatile.Read(ref _state).Headers;

    /// <summary>The accelerator as the resolution behind the current token described it: its agent and epoch.</summary>
    public Protocol.V1.Accelerator Accelerator => Volatile.Read(ref _state).Accelerator;

    /// <summary>The <c>authorization</c> entry of the current token.</summary>
    public Metadata.Entry Entry => Volatile.Read(ref _state).Entry;

    /// <summary>Makes sure the token is good for the next call: completes at once unless a renewal is due.</summary>
    public ValueTask EnsureFreshAsync(CancellationToken cancellationToken)
    {
        State state = Volatile.Read(ref _state);
        DateTimeOffset now = _time.GetUtcNow();
        if (now < state.RenewAt)
        {
            return ValueTask.CompletedTask;
        }

        if (now < state.ExpiresAt - ExpiryMargin)
        {
            // Still good: renew behind the call; a failed renewal is tried again by a later call.
            if (now.UtcTicks >= Volatile.Read(ref _retryAfterTicks))
            {
                // Observed, never thrown: the failed renewal already put off the next try (RenewAsync).
                _ = StartRenewal(state).ContinueWith(
                    t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            return ValueTask.CompletedTask;
        }

        return new ValueTask(StartRenewal(state).WaitAsync(cancellationToken));
    }

    /// <summary>
    /// Resolves again after the agent refused the token the call carried, or after a call found the accelerator gone from
    /// its agent (unless another call resolved meanwhile): many calls that fail together cause one resolution.
    /// </summary>
    public Task RenewAfterRefusalAsync(Metadata.Entry refused, CancellationToken cancellationToken)
    {
        State state = Volatile.Read(ref _state);
        return ReferenceEquals(state.Entry, refused) ? StartRenewal(state).WaitAsync(cancellationToken) : Task.CompletedTask;
    }

    private void DelayRetries() =>
        Volatile.Write(ref _retryAfterTicks, (_time.GetUtcNow() + RetryDelay).UtcTicks);

    private Task StartRenewal(State seen)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_state, seen))
            {
                return Task.CompletedTask;
            }

            if (_renewal is null || _renewal.IsCompleted)
            {
                _renewal = RenewAsync();
            }

            return _renewal;
        }
    }

    private async Task RenewAsync()
    {
        // Not the caller's token: a renewal serves every call of the session, so one caller's cancellation must not end it.
        ResolveAcceleratorResponse resolved;
        try
        {
            resolved = await _resolve(CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            // Before the renewal reads as done: a call that sees it failed must also see the next try put off, or
            // it starts one at once (a continuation that did this ran too late on a busy machine).
            DelayRetries();
            throw;
        }

        Volatile.Write(ref _state, StateOf(resolved, _time.GetUtcNow()));
    }

    private static State StateOf(ResolveAcceleratorResponse resolved, DateTimeOffset now)
    {
        string token = resolved.SliceToken;
        if (string.IsNullOrEmpty(token))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "the broker gave no slice token with the accelerator (an older broker, or the accelerator has no agent)"));
        }

        DateTimeOffset expires = resolved.SliceTokenExpiresAt?.ToDateTimeOffset() ?? now;
        var entry = new Metadata.Entry("authorization", "Bearer " + token);
        return new State(token, entry, [entry], now + ((expires - now) * RenewAtFraction), expires, resolved.Accelerator ?? new Protocol.V1.Accelerator());
    }

    private sealed record State(string Token, Metadata.Entry Entry, Metadata Headers, DateTimeOffset RenewAt, DateTimeOffset ExpiresAt, Protocol.V1.Accelerator Accelerator)
    {
        // Holds a credential: nothing of it in a debugger display or a log.
        public override string ToString() => $"slice token expiring {ExpiresAt:u}";
    }
}
