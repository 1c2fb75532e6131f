using AccelBroker.Agent.Isolation;

namespace AccelBroker.Agent.Execution;

/// <summary>
/// A model's verified bytes on disk and what their archive declares; on CUDA, the estimate to make room for before
/// loading (<see langword="null"/> on CPU, where the load is measured first).
/// </summary>
internal sealed record ModelSource(string Path, long FileBytes, ModelArchive? Archive, long? EstimateBytes);
