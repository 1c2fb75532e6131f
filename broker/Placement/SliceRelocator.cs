using AccelBroker.Broker.Agents;
using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Catalog;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Internal;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Placement;

/// <summary>
/// Moves accelerators between agents: off an agent that has been silent past <see cref="BrokerOptions.EffectiveFailoverAfter"/>
/// (failover), off a revoked agent, and off a draining one. A moved accelerator keeps its id, host, ordinal, slice type
/// and allowlist; its agent changes and its epoch goes up by one, so the old agent (should it come back) is told by its
/// next heartbeat answer to drop the slice and refuses the old epoch's tokens meanwhile. The new agent has the slice before
/// the book names it, so a client that resolves the accelerator never finds an agent that does not hold it.
/// </summary>
internal sealed class SliceRelocator(
    BrokerOptions options,
    SliceTypeCatalog catalog,
    AgentRegistry registry,
    AttachmentBook book,
    IAgentControlClient agents,
    PlacementGate gate,
    PlacementProblems problems,
    SliceHandover handover,
    TimeProvider time,
    ILogger<SliceRelocator> logger)
{
    /// <summary>
    /// One failover round: every accelerator whose agent has been silent past the failover limit, or that is unknown to the
    /// registry (revoked), moves to a healthy agent with room; one that finds none is impaired, with the reason, and is tried
    /// again next round. Accelerators on healthy agents lose any impairment.
    /// </summary>
    /// <returns>How many moved.</returns>
    public async Task<int> FailOverAsync(CancellationToken ct)
    {
        if (!options.FailoverEnabled)
        {
            return 0;
        }

        int moved = 0;
        using (await gate.EnterAsync(ct))
        {
            foreach (AttachmentRecord attachment in book.All())
            {
                if (registry.TryGet(attachment.AgentId, out AgentRecord? agent) && registry.IsHealthy(agent))
                {
                    problems.Clear(attachment.Id);
                    continue;
                }

                if (registry.SilenceOf(attachment.AgentId) < options.EffectiveFailoverAfter)
                {
                    continue;
                }

                string gone = registry.DescribeSilence(attachment.AgentId);

                if (await TryMoveAsync(attachment, gone, releaseOld: false, ct) is { } to)
                {
                    BrokerLog.AcceleratorFailedOver(logger, attachment.Id, attachment.Host, attachment.Ordinal, attachment.AgentId, to.AgentId, to.Epoch, gone);
                    moved++;
                }
            }
        }

        return moved;
    }

    /// <summary>
    /// Moves every slice of <paramref name="agentId"/> (already gone from the registry: revoked) to a healthy agent with
    /// room, keeping each host's ordinal; a slice that finds none stays impaired and later failover rounds try again.
    /// </summary>
    public async Task<(int Moved, int Stranded)> MoveOffAsync(string agentId, CancellationToken ct)
    {
        int moved = 0;
        int stranded = 0;
        using (await gate.EnterAsync(ct))
        {
            foreach (AttachmentRecord old in book.OnAgent(agentId))
            {
                if (await TryMoveAsync(old, $"agent {agentId} was revoked", releaseOld: false, ct) is not null)
                {
                    moved++;
                }
                else
                {
                    stranded++;
                }
            }
        }

        return (moved, stranded);
    }

    /// <summary>
    /// Moves the slices of a cordoned agent one at a time while it still serves: each goes to its new agent first, with its
    /// models copied and loaded there (<see cref="SliceHandover"/>), then the book switches clients to it, then the old
    /// agent is asked to drop it. A slice that finds no room stays where it is.
    /// </summary>
    public async Task<(int Moved, IReadOnlyList<string> Stranded)> DrainAsync(string agentId, CancellationToken ct)
    {
        int moved = 0;
        var stranded = new List<string>();
        foreach (AttachmentRecord attachment in book.OnAgent(agentId))
        {
            // One slice per entry of the gate, so attaches and detaches are not held up for the whole drain.
            using (await gate.EnterAsync(ct))
            {
                AttachmentRecord? current = book.All().FirstOrDefault(a => a.Id == attachment.Id);
                if (current is null || current.AgentId != agentId)
                {
                    continue; // detached or moved meanwhile
                }

                if (await TryMoveAsync(current, $"agent {agentId} is draining", releaseOld: true, ct) is not null)
                {
                    moved++;
                }
                else
                {
                    stranded.Add($"{current.Host}:{current.Ordinal} ({problems.ReasonOf(current.Id) ?? "no room"})");
                    problems.Clear(current.Id); // still served by its (draining) agent: not impaired
                }
            }
        }

        return (moved, stranded);
    }

    // Called inside the gate. The replacement on success; null (and the reason kept in problems) when it did not move.
    private async Task<AttachmentRecord?> TryMoveAsync(AttachmentRecord old, string why, bool releaseOld, CancellationToken ct)
    {
        if (!catalog.TryGet(old.SliceType, out SliceTypeSpec? sliceType))
        {
            problems.Set(old.Id, $"{why}; its slice type {old.SliceType} is no longer in the catalogue");
            return null;
        }

        PlacementResult placement = FleetLoads.Place(sliceType, registry, book, excluded: old.AgentId);
        if (!placement.Placed || !registry.TryGet(placement.AgentId!, out AgentRecord? agent))
        {
            string reason = $"{why}; {placement.Failure ?? "the chosen agent left the fleet"}";
            if (problems.ReasonOf(old.Id) != reason)
            {
                BrokerLog.AcceleratorImpaired(logger, old.Id, old.Host, old.Ordinal, reason);
            }

            problems.Set(old.Id, reason);
            return null;
        }

        AttachmentRecord replacement = old with
        {
            AgentId = agent.AgentId,
            AgentAddress = agent.Address,
            AttachedAt = time.GetUtcNow(),
            Epoch = old.Epoch + 1,
        };
        book.BeginMove(replacement);
        try
        {
            try
            {
                await agents.AssignSliceAsync(agent.AgentId, agent.Address, replacement.ToAssignment(), ct);
            }
            catch (Exception ex) when (AgentCallFailure.IsExpected(ex))
            {
                string failure = AgentCallFailure.Describe(ex, options.AgentCallTimeout);
                BrokerLog.AgentCallFailed(logger, "AssignSlice", agent.AgentId, agent.Address, replacement.Id, failure);
                problems.Set(old.Id, $"{why}; agent {agent.AgentId} did not accept it: {failure}");
                return null;
            }

            if (releaseOld)
            {
                // A planned move: the old agent still serves, so the new one gets its models loaded and warm first.
                await handover.ReadyAsync(
                    new SlicePlace(old.AgentId, old.AgentAddress, old.Host, old.Id, old.Epoch),
                    new SlicePlace(replacement.AgentId, replacement.AgentAddress, replacement.Host, replacement.Id, replacement.Epoch),
                    ct);
            }

            try
            {
                book.Replace(old.Id, replacement);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                BrokerLog.AttachmentsSaveFailed(logger, ex);
                problems.Set(old.Id, $"{why}; the move could not be saved: {ex.Message}");
                _ = ReleaseBestEffortAsync(agent.AgentId, agent.Address, replacement.Id);
                return null;
            }
        }
        finally
        {
            book.AbandonMove(old.Id);
        }

        problems.Clear(old.Id);
        if (releaseOld)
        {
            // Not awaited: the book already names the new agent, and the old one's next heartbeat drops the slice anyway.
            _ = ReleaseBestEffortAsync(old.AgentId, old.AgentAddress, old.Id);
        }

        return replacement;
    }

    private Task ReleaseBestEffortAsync(string agentId, string agentAddress, string sliceId) =>
        agents.ReleaseBestEffortAsync(agentId, agentAddress, sliceId, options.AgentCallTimeout, logger);
}
