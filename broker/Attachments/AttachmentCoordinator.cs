using AccelBroker.Broker.Agents;
using AccelBroker.Broker.Catalog;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Placement;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Broker.Attachments;

/// <summary>
/// Attaches and detaches slices. Attaches, detaches and moves run one at a time (<see cref="PlacementGate"/>), so two attaches
/// never take the same ordinal or the same capacity; a failed attach leaves nothing behind.
/// </summary>
internal sealed class AttachmentCoordinator(
    BrokerOptions options,
    SliceTypeCatalog catalog,
    AgentRegistry registry,
    AttachmentBook book,
    FleetDescriber describer,
    IAgentControlClient agents,
    PlacementGate gate,
    PlacementProblems problems,
    TimeProvider time,
    ILogger<AttachmentCoordinator> logger)
{
    /// <summary>
    /// Places a slice of <paramref name="sliceTypeName"/>, has its agent create it and records it under the host's lowest
    /// free ordinal. <paramref name="allowlist"/> (as the request gave it) limits the models the slice may load.
    /// </summary>
    /// <exception cref="DomainException">
    /// InvalidInput (host, slice type, allowlist), ResourceExhausted (no agent has room), Cancelled (the caller gave up while
    /// the agent was asked), Unavailable (the agent did not accept the slice), Internal (the attachment could not be saved).
    /// </exception>
    public async Task<Accelerator> AttachAsync(string host, string sliceTypeName, string hostType, ModelAllowlist? allowlist, CancellationToken ct)
    {
        RequestChecks.Host(host);
        IReadOnlyList<string>? allowed = ModelAllowlistChecks.Normalize(allowlist);
        if (string.IsNullOrEmpty(sliceTypeName))
        {
            throw DomainException.Invalid($"slice_type is required; known: {catalog.KnownNames}");
        }

        if (!catalog.TryGet(sliceTypeName, out SliceTypeSpec? sliceType))
        {
            throw DomainException.Invalid($"unknown slice type '{sliceTypeName}'; known: {catalog.KnownNames}");
        }

        using (await gate.EnterAsync(ct))
        {
            (AgentRecord agent, AttachmentRecord attachment) = Reserve(host, sliceType, hostType, allowed);
            try
            {
                await agents.AssignSliceAsync(agent.AgentId, agent.Address, attachment.ToAssignment(), ct);
            }
            catch (Exception ex)
            {
                book.Abandon(attachment.Id);
                string reason = DescribeFailure(ex);
                BrokerLog.AgentCallFailed(logger, "AssignSlice", agent.AgentId, agent.Address, attachment.Id, reason);
                if (ex is OperationCanceledException && ct.IsCancellationRequested)
                {
                    throw DomainException.Cancelled("the attach was cancelled by the caller");
                }

                throw DomainException.Unavailable($"agent {agent.AgentId} at {agent.Address} did not accept the slice: {reason}");
            }

            try
            {
                book.Commit(attachment.Id);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                book.Abandon(attachment.Id);
                BrokerLog.AttachmentsSaveFailed(logger, ex);
                await ReleaseBestEffortAsync(agent.AgentId, agent.Address, attachment.Id);
                throw DomainException.Internal($"the attachment could not be saved: {ex.Message}", ex);
            }

            BrokerLog.AcceleratorAttached(
                logger, attachment.Id, attachment.Host, attachment.Ordinal, attachment.SliceType, agent.AgentId, agent.Address);
            return describer.Describe(attachment);
        }
    }

    /// <summary>Removes the accelerator at <paramref name="ordinal"/> of <paramref name="host"/>, frees its capacity and asks its agent to drop the slice.</summary>
    /// <exception cref="DomainException">InvalidInput (host, ordinal), NotFound (nothing attached there), Internal (could not be saved).</exception>
    public async Task<Accelerator> DetachAsync(string host, int ordinal, CancellationToken ct)
    {
        RequestChecks.Host(host);
        RequestChecks.Ordinal(ordinal);

        Accelerator removed;
        using (await gate.EnterAsync(ct))
        {
            AttachmentRecord attachment = book.Find(host, ordinal)
                ?? throw DomainException.NotFound(book.DescribeMissing(host, ordinal));
            removed = describer.Describe(attachment);
            try
            {
                book.Remove(attachment.Id);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                BrokerLog.AttachmentsSaveFailed(logger, ex);
                throw DomainException.Internal($"the detach could not be saved: {ex.Message}", ex);
            }

            problems.Clear(attachment.Id);
            BrokerLog.AcceleratorDetached(logger, attachment.Id, attachment.Host, attachment.Ordinal, attachment.AgentId);
        }

        // Outside the gate: the slice is already free in the book, and heartbeat reconciliation drops it
        // from the agent if this call fails.
        await ReleaseBestEffortAsync(removed.AgentId, removed.AgentAddress, removed.Id);
        return removed;
    }

    /// <summary>
    /// Replaces the models the accelerator at <paramref name="ordinal"/> of <paramref name="host"/> may load
    /// (<see langword="null"/>: any) and tells its agent at once, which unloads the models no longer allowed. The change
    /// is booked first: an agent that cannot be told now gets it with its next heartbeat answer.
    /// </summary>
    /// <exception cref="DomainException">InvalidInput (host, ordinal, allowlist), NotFound (nothing attached there), Internal (could not be saved).</exception>
    public async Task<Accelerator> SetAllowedModelsAsync(string host, int ordinal, ModelAllowlist? allowlist, CancellationToken ct)
    {
        RequestChecks.Host(host);
        RequestChecks.Ordinal(ordinal);
        IReadOnlyList<string>? allowed = ModelAllowlistChecks.Normalize(allowlist);

        AttachmentRecord updated;
        using (await gate.EnterAsync(ct))
        {
            AttachmentRecord attachment = book.Find(host, ordinal)
                ?? throw DomainException.NotFound(book.DescribeMissing(host, ordinal));
            updated = attachment with { Allowlist = allowed };
            try
            {
                book.Replace(attachment.Id, updated);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                BrokerLog.AttachmentsSaveFailed(logger, ex);
                throw DomainException.Internal($"the allowlist could not be saved: {ex.Message}", ex);
            }

            // Inside the gate, so a re-placement cannot send the agent an older assignment after this one.
            if (registry.TryGet(updated.AgentId, out AgentRecord? agent))
            {
                try
                {
                    await agents.AssignSliceAsync(agent.AgentId, agent.Address, updated.ToAssignment(), ct);
                }
                catch (Exception ex) when (AgentCallFailure.IsExpected(ex))
                {
                    BrokerLog.AgentCallFailed(logger, "AssignSlice", agent.AgentId, agent.Address, updated.Id, DescribeFailure(ex));
                }
            }
        }

        return describer.Describe(updated);
    }

    // Called inside the gate.
    private (AgentRecord Agent, AttachmentRecord Attachment) Reserve(string host, SliceTypeSpec sliceType, string hostType, IReadOnlyList<string>? allowlist)
    {
        PlacementResult placement = FleetLoads.Place(sliceType, registry, book);
        if (!placement.Placed)
        {
            BrokerLog.PlacementFailed(logger, host, sliceType.Name, placement.Failure!);
            throw DomainException.Exhausted(placement.Failure!);
        }

        if (!registry.TryGet(placement.AgentId!, out AgentRecord? agent))
        {
            throw DomainException.Unavailable($"agent {placement.AgentId} left the fleet while the slice was placed; try again");
        }

        var attachment = new AttachmentRecord(
            Id: "acc-" + Guid.NewGuid().ToString("N"),
            Host: host,
            Ordinal: book.LowestFreeOrdinal(host),
            SliceType: sliceType.Name,
            HostType: hostType,
            AgentId: agent.AgentId,
            AgentAddress: agent.Address,
            MemoryBytes: sliceType.MemoryBytes,
            ComputeShare: sliceType.ComputeShare,
            AttachedAt: time.GetUtcNow(),
            Allowlist: allowlist);
        book.Reserve(attachment);
        return (agent, attachment);
    }

    private Task ReleaseBestEffortAsync(string agentId, string agentAddress, string sliceId) =>
        agents.ReleaseBestEffortAsync(agentId, agentAddress, sliceId, options.AgentCallTimeout, logger);

    private string DescribeFailure(Exception ex) => AgentCallFailure.Describe(ex, options.AgentCallTimeout);
}
