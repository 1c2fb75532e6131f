using AccelBroker.Cli.Infrastructure;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// One accelerator in EI's describe-accelerators shape, plus our fields. Memory charged and models resident are as
/// of the agent's last heartbeat (0 until the first one after attach). Allowed models (count and hashes) are null when
/// the accelerator may load any model. State is ready, recovering or impaired (empty when the broker said nothing), its
/// reason empty when ready; epoch counts the accelerator's placements.
/// </summary>
internal sealed record AcceleratorJson(
    int Ordinal,
    string Type,
    string Id,
    string Status,
    string Agent,
    string AgentAddress,
    string Device,
    long MemoryMib,
    long MemoryChargedBytes,
    int ModelsResident,
    double ComputeShare,
    string Host,
    string HostType,
    int? AllowedModels,
    IReadOnlyList<string>? AllowedModelSha256,
    string State,
    string StateReason,
    long Epoch)
{
    public static AcceleratorJson From(Accelerator a) =>
        new(a.Ordinal, a.SliceType, a.Id, ContractWords.Health(a.Health), a.AgentId, a.AgentAddress, Formatting.Device(a.Device), a.MemoryBytes / Formatting.MiB,
            a.MemoryChargedBytes, a.ModelsResident, a.ComputeShare, a.Host, a.HostType, a.Allowlist?.Sha256.Count, a.Allowlist is { } allowed ? [.. allowed.Sha256] : null,
            ContractWords.State(a.State), a.StateReason, a.Epoch);
}
