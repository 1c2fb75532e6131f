namespace AccelBroker.Tests.Infrastructure;

/// <summary>
/// A synchronization context that keeps what is posted to it until <see cref="RunHeld"/>: a continuation that
/// is ready but not yet scheduled, as on a starved thread pool, held still for as long as a test needs.
/// </summary>
public sealed class HeldSynchronizationContext : SynchronizationContext
{
    private readonly Lock _gate = new();
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _held = new();

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            _held.Enqueue((d, state));
        }
    }

    /// <summary>Runs what was posted before this call, on the calling thread; what they post stays held.</summary>
    public void RunHeld()
    {
        (SendOrPostCallback Callback, object? State)[] ready;
        lock (_gate)
        {
            ready = [.. _held];
            _held.Clear();
        }

        foreach ((SendOrPostCallback callback, object? state) in ready)
        {
            callback(state);
        }
    }
}
