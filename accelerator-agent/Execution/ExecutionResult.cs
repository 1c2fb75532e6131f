using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Agent.Execution;

/// <summary>What one forward pass produced, and where its time went.</summary>
/// <param name="Buffers">
/// The pooled arrays the outputs live in, for the one caller that receives them to give back once they are sent;
/// null where they are shared (a batch's split outputs) or not pooled.
/// </param>
internal sealed record ExecutionResult(OutputKind Kind, IReadOnlyList<WireTensor> Outputs, RunTiming Timing, PooledBuffers? Buffers = null);
