using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Execution;

/// <summary>What one forward pass produced, and where its time went.</summary>
internal sealed record ExecutionResult(OutputKind Kind, IReadOnlyList<WireTensor> Outputs, RunTiming Timing);
