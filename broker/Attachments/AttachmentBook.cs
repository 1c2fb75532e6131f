using System.Globalization;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Attachments;

/// <summary>
/// Every attachment of a slice to a host, committed or pending. A pending attachment is one whose agent is
/// being asked to create the slice: it already holds its ordinal and capacity and is sent to the agent in
/// heartbeat answers (so the agent does not drop it), but it is not shown until it is committed.
/// Committed attachments are saved to the store on every change; a change that cannot be saved is undone.
/// </summary>
internal sealed class AttachmentBook
{
    private readonly Lock _lock = new();
    private readonly IAttachmentStore _store;
    private readonly List<AttachmentRecord> _committed;
    private readonly Dictionary<string, AttachmentRecord> _pending = new(StringComparer.Ordinal);

    // Placements being readied on another agent for a committed attachment (same id): listed to their new agent and
    // holding its capacity, so a heartbeat answer in the meantime does not tell that agent to drop the slice.
    private readonly Dictionary<string, AttachmentRecord> _moving = new(StringComparer.Ordinal);

    public AttachmentBook(IAttachmentStore store)
    {
        _store = store;
        _committed = [.. store.Load()];
    }

    /// <summary>Committed attachments by host, then ordinal.</summary>
    public IReadOnlyList<AttachmentRecord> All()
    {
        lock (_lock)
        {
            return [.. _committed.OrderBy(a => a.Host, StringComparer.Ordinal).ThenBy(a => a.Ordinal)];
        }
    }

    /// <summary>Committed attachments of one host by ordinal.</summary>
    public IReadOnlyList<AttachmentRecord> ForHost(string host)
    {
        lock (_lock)
        {
            return [.. _committed.Where(a => a.Host == host).OrderBy(a => a.Ordinal)];
        }
    }

    /// <summary>Committed attachments placed on one agent, by host and ordinal.</summary>
    public IReadOnlyList<AttachmentRecord> OnAgent(string agentId)
    {
        lock (_lock)
        {
            return [.. _committed.Where(a => a.AgentId == agentId).OrderBy(a => a.Host, StringComparer.Ordinal).ThenBy(a => a.Ordinal)];
        }
    }

    /// <summary>The host of the committed attachment with <paramref name="attachmentId"/>; <see langword="null"/> when there is none.</summary>
    public string? HostOf(string attachmentId)
    {
        lock (_lock)
        {
            return _committed.Find(a => a.Id == attachmentId)?.Host;
        }
    }

    /// <summary>Every slice the agent should hold: committed and pending.</summary>
    public IReadOnlyList<SliceAssignment> AssignmentsOn(string agentId)
    {
        lock (_lock)
        {
            return [.. Everything().Where(a => a.AgentId == agentId).OrderBy(a => a.Id, StringComparer.Ordinal).Select(a => a.ToAssignment())];
        }
    }

    /// <summary>Memory and compute reserved on each agent, pending attachments included.</summary>
    public IReadOnlyDictionary<string, (long MemoryBytes, double Compute)> AllocationsByAgent()
    {
        lock (_lock)
        {
            var allocations = new Dictionary<string, (long MemoryBytes, double Compute)>(StringComparer.Ordinal);
            foreach (AttachmentRecord attachment in Everything())
            {
                (long memory, double compute) = allocations.GetValueOrDefault(attachment.AgentId);
                allocations[attachment.AgentId] = (memory + attachment.MemoryBytes, compute + attachment.ComputeShare);
            }

            return allocations;
        }
    }

    public AttachmentRecord? Find(string host, int ordinal)
    {
        lock (_lock)
        {
            return _committed.Find(a => a.Host == host && a.Ordinal == ordinal);
        }
    }

    /// <summary>The host's lowest ordinal not in use (pending attachments included): a detached ordinal is reused.</summary>
    public int LowestFreeOrdinal(string host)
    {
        lock (_lock)
        {
            var used = Everything().Where(a => a.Host == host).Select(a => a.Ordinal).ToHashSet();
            int ordinal = 0;
            while (used.Contains(ordinal))
            {
                ordinal++;
            }

            return ordinal;
        }
    }

    /// <summary>Holds the ordinal and capacity of an attachment whose agent is being asked to create the slice.</summary>
    public void Reserve(AttachmentRecord attachment)
    {
        lock (_lock)
        {
            if (Everything().Any(a => a.Id == attachment.Id || (a.Host == attachment.Host && a.Ordinal == attachment.Ordinal)))
            {
                throw new InvalidOperationException($"Attachment {attachment.Id} collides with an existing one.");
            }

            _pending.Add(attachment.Id, attachment);
        }
    }

    /// <summary>Holds the new placement of a committed attachment while its new agent is asked to create (and ready) the slice.</summary>
    public void BeginMove(AttachmentRecord replacement)
    {
        lock (_lock)
        {
            if (!_committed.Exists(a => a.Id == replacement.Id) || !_moving.TryAdd(replacement.Id, replacement))
            {
                throw new InvalidOperationException($"Attachment {replacement.Id} is not committed, or already moving.");
            }
        }
    }

    /// <summary>Forgets a new placement that was not committed (its agent did not accept it); a committed move is already gone.</summary>
    public void AbandonMove(string attachmentId)
    {
        lock (_lock)
        {
            _moving.Remove(attachmentId);
        }
    }

    /// <summary>Drops a pending attachment (its agent did not accept the slice).</summary>
    public void Abandon(string attachmentId)
    {
        lock (_lock)
        {
            _pending.Remove(attachmentId);
        }
    }

    /// <summary>Makes a pending attachment visible and saves; if saving fails it stays pending and the exception propagates.</summary>
    public void Commit(string attachmentId)
    {
        lock (_lock)
        {
            if (!_pending.Remove(attachmentId, out AttachmentRecord? attachment))
            {
                throw new InvalidOperationException($"Attachment {attachmentId} is not pending.");
            }

            _committed.Add(attachment);
            try
            {
                _store.Save(_committed);
            }
            catch
            {
                _committed.Remove(attachment);
                _pending.Add(attachmentId, attachment);
                throw;
            }
        }
    }

    /// <summary>
    /// Puts <paramref name="replacement"/> (same host and ordinal, another agent) in place of the committed attachment
    /// <paramref name="attachmentId"/> and saves; if saving fails the old one is put back and the exception propagates.
    /// </summary>
    public bool Replace(string attachmentId, AttachmentRecord replacement)
    {
        lock (_lock)
        {
            int index = _committed.FindIndex(a => a.Id == attachmentId);
            if (index < 0)
            {
                return false;
            }

            AttachmentRecord previous = _committed[index];
            _committed[index] = replacement;
            try
            {
                _store.Save(_committed);
            }
            catch
            {
                _committed[index] = previous;
                throw;
            }

            // A move committed: the placement it readied is now the committed one.
            _moving.Remove(attachmentId);
            return true;
        }
    }

    /// <summary>Removes a committed attachment and saves; if saving fails it is put back and the exception propagates.</summary>
    public bool Remove(string attachmentId)
    {
        lock (_lock)
        {
            int index = _committed.FindIndex(a => a.Id == attachmentId);
            if (index < 0)
            {
                return false;
            }

            AttachmentRecord attachment = _committed[index];
            _committed.RemoveAt(index);
            try
            {
                _store.Save(_committed);
            }
            catch
            {
                _committed.Insert(index, attachment);
                throw;
            }

            return true;
        }
    }

    /// <summary>"host 'h' has no accelerator at ordinal 3; attached ordinals: 0, 1" or "host 'h' has no accelerators attached".</summary>
    public string DescribeMissing(string host, int ordinal)
    {
        IReadOnlyList<AttachmentRecord> attached = ForHost(host);
        if (attached.Count == 0)
        {
            return $"host '{host}' has no accelerators attached";
        }

        string ordinals = string.Join(", ", attached.Select(a => a.Ordinal.ToString(CultureInfo.InvariantCulture)));
        return string.Create(CultureInfo.InvariantCulture, $"host '{host}' has no accelerator at ordinal {ordinal}; attached ordinals: {ordinals}");
    }

    private IEnumerable<AttachmentRecord> Everything() => _committed.Concat(_pending.Values).Concat(_moving.Values);
}
