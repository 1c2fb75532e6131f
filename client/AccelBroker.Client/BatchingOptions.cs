namespace AccelBroker.Client;

/// <summary>Dynamic batching of a model on its agent, chosen when it is loaded.</summary>
/// <param name="MaxBatchSize">Most items (rows of the first dimension, summed over requests) one execution takes: 2 to 4096.</param>
/// <param name="MaxDelay">
/// Longest a request waits for others to join it, at most one second. <see cref="TimeSpan.Zero"/> merges only requests
/// that are already queued while the model is busy, adding no wait.
/// </param>
public sealed record BatchingOptions(int MaxBatchSize, TimeSpan MaxDelay);
