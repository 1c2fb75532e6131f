using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Attachments;

/// <summary>What stored attachments must satisfy, wherever they were read from (broker.db, or an imported attachments.json).</summary>
internal static class AttachmentChecks
{
    public static string? FindProblem(IReadOnlyList<AttachmentRecord> attachments)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var ordinals = new HashSet<(string Host, int Ordinal)>();
        foreach (AttachmentRecord attachment in attachments)
        {
            if (string.IsNullOrEmpty(attachment.Id) || string.IsNullOrEmpty(attachment.Host) || string.IsNullOrEmpty(attachment.AgentId))
            {
                return "an attachment has an empty id, host or agent id";
            }

            if (attachment.Ordinal < 0)
            {
                return $"attachment {attachment.Id} has a negative ordinal";
            }

            if (attachment.Epoch < 1)
            {
                return $"attachment {attachment.Id} has an epoch below 1";
            }

            if (!ids.Add(attachment.Id))
            {
                return $"attachment id {attachment.Id} appears more than once";
            }

            if (!ordinals.Add((attachment.Host, attachment.Ordinal)))
            {
                return $"host '{attachment.Host}' has more than one attachment at ordinal {attachment.Ordinal}";
            }

            if (attachment.Allowlist is { } allowlist)
            {
                // Read back through the request checks: a hand-edited store is held to what the RPC accepts.
                var proto = new ModelAllowlist();
                proto.Sha256.AddRange(allowlist.Select(h => h ?? ""));
                try
                {
                    ModelAllowlistChecks.Normalize(proto);
                }
                catch (DomainException ex)
                {
                    return $"attachment {attachment.Id}: {ex.Message}";
                }
            }
        }

        return null;
    }
}
