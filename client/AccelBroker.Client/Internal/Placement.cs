using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>
/// Where the session's accelerator lives now: its agent, the client that reaches it and the placement's epoch, as one
/// immutable object that recovery or a token renewal swaps whole when the broker names another agent or epoch.
/// </summary>
internal sealed class Placement(AcceleratorInfo info, string agentId, long epoch, CallInvoker invoker)
{
    public AcceleratorInfo Info { get; } = info;

    public string AgentId { get; } = agentId;

    public long Epoch { get; } = epoch;

    public InferenceAgent.InferenceAgentClient Agent { get; } = new(invoker);

    /// <summary>The agent's calls as <see cref="Agent"/> makes them (interceptors, token), for the pooled run and echo methods.</summary>
    public CallInvoker Invoker { get; } = invoker;

    /// <summary>Whether <paramref name="accelerator"/> (a resolution) names this placement: same slice, agent and epoch.</summary>
    public bool Matches(Protocol.V1.Accelerator accelerator) =>
        accelerator.Epoch == Epoch
        && string.Equals(accelerator.Id, Info.Id, StringComparison.Ordinal)
        && string.Equals(accelerator.AgentId, AgentId, StringComparison.Ordinal)
        && string.Equals(accelerator.AgentAddress, Info.AgentAddress, StringComparison.Ordinal);

    public static AcceleratorInfo InfoOf(Protocol.V1.Accelerator a) =>
        new(a.Id, a.Host, a.Ordinal, a.SliceType, a.AgentAddress, a.Device?.Kind ?? "", a.MemoryBytes, WireConversion.FromWire(a.Health));
}
