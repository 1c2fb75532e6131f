namespace AccelBroker.Agent.Execution.Batching;

/// <summary>Dynamic batching of one model, chosen when it is loaded.</summary>
/// <param name="MaxBatchSize">Most items (rows of the first dimension, summed over requests) one execution takes.</param>
/// <param name="MaxDelay">Longest a request waits for others to join it; zero merges only requests already queued.</param>
internal sealed record BatchingOptions(int MaxBatchSize, TimeSpan MaxDelay);
