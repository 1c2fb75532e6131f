using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Attachments;

/// <summary>
/// A slice attached to a client host under an ordinal. It carries what it reserves on its agent, so capacity
/// is accounted for even when the agent is unknown (after a broker restart, until the agent registers again).
/// </summary>
internal sealed record AttachmentRecord(
    string Id,
    string Host,
    int Ordinal,
    string SliceType,
    string HostType,
    string AgentId,
    string AgentAddress,
    long MemoryBytes,
    double ComputeShare,
    DateTimeOffset AttachedAt)
{
    public SliceAssignment ToAssignment() => new()
    {
        SliceId = Id,
        SliceType = SliceType,
        MemoryBytes = MemoryBytes,
        ComputeShare = ComputeShare,
        Host = Host,
        Ordinal = Ordinal,
    };
}
