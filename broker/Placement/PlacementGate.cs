namespace AccelBroker.Broker.Placement;

/// <summary>
/// One placement change at a time (attach, detach, allowlist, move), so two changes never take the same ordinal or the
/// same capacity, and a move never sends an agent an assignment older than another change's.
/// </summary>
internal sealed class PlacementGate : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Waits for the gate; dispose the result to leave it.</summary>
    public async ValueTask<Held> EnterAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        return new Held(_gate);
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>The gate while held.</summary>
    internal readonly struct Held(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
