using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Attachments;

/// <summary>
/// A slice attached to a client host under an ordinal. It carries what it reserves on its agent, so capacity
/// is accounted for even when the agent is unknown (after a broker restart, until the agent registers again).
/// <see cref="Allowlist"/> holds the hashes of the models the slice may load, sorted; <see langword="null"/> (also
/// what a file written before allowlists reads as) means any model.
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
    DateTimeOffset AttachedAt,
    IReadOnlyList<string>? Allowlist = null)
{
    /// <summary>Placement epoch: 1 when attached, one more each time the accelerator moves to another agent.</summary>
    public long Epoch { get; init; } = 1;

    public SliceAssignment ToAssignment() => new()
    {
        SliceId = Id,
        SliceType = SliceType,
        MemoryBytes = MemoryBytes,
        ComputeShare = ComputeShare,
        Host = Host,
        Ordinal = Ordinal,
        Allowlist = ModelAllowlistChecks.ToProto(Allowlist),
        Epoch = Epoch,
    };
}
