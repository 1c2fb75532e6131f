namespace AccelBroker.Agent.Registration;

/// <summary>Completes once Kestrel listens and the advertised address is known.</summary>
internal sealed class ServerReady
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WhenReady => _ready.Task;

    public void Signal() => _ready.TrySetResult();
}
