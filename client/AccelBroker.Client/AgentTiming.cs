namespace AccelBroker.Client;

/// <summary>Where a run's time went on the agent.</summary>
/// <param name="Queue">Waiting for an execution slot.</param>
/// <param name="Decode">Turning wire bytes into device tensors.</param>
/// <param name="Compute">The forward pass.</param>
/// <param name="Encode">Turning outputs into wire bytes.</param>
public readonly record struct AgentTiming(TimeSpan Queue, TimeSpan Decode, TimeSpan Compute, TimeSpan Encode);
