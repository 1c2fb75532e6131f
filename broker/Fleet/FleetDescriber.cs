using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Placement;
using AccelBroker.Broker.Usage;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace AccelBroker.Broker.Fleet;

/// <summary>
/// Builds the contract's views of accelerators and agents from the registry, the attachment book and the agents'
/// latest heartbeat figures.
/// </summary>
internal sealed class FleetDescriber(BrokerOptions options, AgentRegistry registry, AttachmentBook book, UsageBook usage, PlacementProblems problems, TimeProvider time)
{
    /// <summary>
    /// One accelerator with its agent's address, device and health. An agent unknown to the registry
    /// (not yet registered since a broker restart) reads unhealthy at the address it had when attached. Memory
    /// charged and models resident are as of the agent's last heartbeat: 0 until the first one after attach.
    /// </summary>
    public Accelerator Describe(AttachmentRecord attachment)
    {
        var accelerator = new Accelerator
        {
            Id = attachment.Id,
            Host = attachment.Host,
            Ordinal = attachment.Ordinal,
            SliceType = attachment.SliceType,
            HostType = attachment.HostType,
            AgentId = attachment.AgentId,
            AgentAddress = attachment.AgentAddress,
            MemoryBytes = attachment.MemoryBytes,
            ComputeShare = attachment.ComputeShare,
            Health = AgentHealth.Unhealthy,
            AttachedAt = Timestamp.FromDateTimeOffset(attachment.AttachedAt),
            Allowlist = ModelAllowlistChecks.ToProto(attachment.Allowlist),
            Epoch = attachment.Epoch,
        };
        if (registry.TryGet(attachment.AgentId, out AgentRecord? agent))
        {
            accelerator.AgentAddress = agent.Address;
            accelerator.Device = agent.Device.Clone();
            accelerator.Health = AgentHealthReading.Of(registry.IsHealthy(agent));
        }

        (accelerator.State, accelerator.StateReason) = StateOf(attachment, accelerator.Health == AgentHealth.Healthy);

        if (usage.GetState(attachment.Id) is { } reported)
        {
            accelerator.MemoryChargedBytes = reported.MemoryChargedBytes;
            accelerator.ModelsResident = reported.ModelsResident;
        }

        return accelerator;
    }

    /// <summary>The host's accelerators by ordinal (none is not an error).</summary>
    public DescribeAcceleratorsResponse DescribeHost(string host)
    {
        RequestChecks.Host(host);
        var response = new DescribeAcceleratorsResponse
        {
            Host = host,
            Time = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
        };
        response.Accelerators.AddRange(book.ForHost(host).Select(Describe));
        return response;
    }

    /// <summary>The accelerator at <paramref name="ordinal"/> of <paramref name="host"/>.</summary>
    /// <exception cref="DomainException">InvalidInput for a bad host or ordinal; NotFound naming the host's ordinals.</exception>
    public Accelerator Resolve(string host, int ordinal)
    {
        RequestChecks.Host(host);
        RequestChecks.Ordinal(ordinal);
        AttachmentRecord attachment = book.Find(host, ordinal)
            ?? throw DomainException.NotFound(book.DescribeMissing(host, ordinal));
        return Describe(attachment);
    }

    /// <summary>Every registered agent by id, with capacity, what its committed slices reserve, health and accelerators.</summary>
    public DescribeAgentsResponse DescribeAgents()
    {
        var response = new DescribeAgentsResponse();
        response.Agents.AddRange(registry.Snapshot().Select(DescribeAgent));
        return response;
    }

    /// <summary>One agent as <see cref="DescribeAgents"/> shows it.</summary>
    public AgentDescription DescribeAgent(AgentRecord agent)
    {
        IReadOnlyList<AttachmentRecord> attachments = book.OnAgent(agent.AgentId);
        bool healthy = registry.IsHealthy(agent);
        var description = new AgentDescription
        {
            AgentId = agent.AgentId,
            Address = agent.Address,
            Device = agent.Device.Clone(),
            Capacity = new AgentCapacity { MemoryBytes = agent.CapacityMemoryBytes, Compute = agent.CapacityCompute },
            Allocated = new AgentCapacity
            {
                MemoryBytes = attachments.Sum(a => a.MemoryBytes),
                Compute = attachments.Sum(a => a.ComputeShare),
            },
            Health = AgentHealthReading.Of(healthy),
            HealthReason = healthy ? "" : $"no heartbeat for {Units.Seconds(time.GetUtcNow() - agent.LastSeen)} (limit {Units.Seconds(options.UnhealthyAfter)})",
            Cordoned = agent.Cordoned,
            InstanceType = agent.InstanceType,
            LastHeartbeat = Timestamp.FromDateTimeOffset(agent.LastSeen),
            Version = agent.Version,
            MetricsAddress = agent.MetricsAddress,
        };
        description.Accelerators.AddRange(attachments.Select(Describe));
        return description;
    }

    private (AcceleratorState State, string Reason) StateOf(AttachmentRecord attachment, bool healthy)
    {
        if (healthy)
        {
            return (AcceleratorState.Ready, "");
        }

        if (problems.ReasonOf(attachment.Id) is { } impaired)
        {
            return (AcceleratorState.Impaired, impaired);
        }

        string silent = registry.DescribeSilence(attachment.AgentId);
        return options.FailoverEnabled
            ? (AcceleratorState.Recovering, $"{silent}; moves to another agent after {Units.Seconds(options.EffectiveFailoverAfter)} of silence")
            : (AcceleratorState.Recovering, $"{silent}; failover is off, so it waits for the agent to come back");
    }
}
