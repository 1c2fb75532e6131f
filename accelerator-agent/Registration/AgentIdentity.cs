using AccelBroker.Agent.Devices;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Registration;

/// <summary>Who this agent is: its id (assigned by the broker), advertised address, device and capacity.</summary>
internal sealed class AgentIdentity
{
    public AgentIdentity(ComputeDevice device, AgentOptions options)
    {
        Device = device;
        // A restarted agent keeps its id, so the broker gives it back the slices placed on it. Only with its
        // own data directory: agents sharing the default folder must not share an id.
        _idFile = options.DataDirectory is null ? null : Path.Combine(options.DataDirectory, "agent-id");
        AgentId = options.AgentId ?? (_idFile is not null && File.Exists(_idFile) ? File.ReadAllText(_idFile).Trim() : "");
        long memory = options.MemoryBytes ?? (device.IsCuda ? device.TotalMemoryBytes * 9 / 10 : device.TotalMemoryBytes / 2);
        Capacity = new AgentCapacity { MemoryBytes = memory, Compute = options.Compute };
        InstanceType = options.InstanceType ?? "";
    }

    private readonly string? _idFile;

    public ComputeDevice Device { get; }

    public AgentCapacity Capacity { get; }

    public string InstanceType { get; }

    public string AgentId { get; private set; }

    public void Remember(string agentId)
    {
        AgentId = agentId;
        if (_idFile is null)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_idFile)!);
            File.WriteAllText(_idFile, agentId);
        }
        catch (IOException)
        {
            // Not fatal: the agent then registers under a new id after a restart.
        }
    }

    public string Address { get; set; } = "";

    /// <summary>Prometheus scrape URL reported to the broker; empty when the agent serves none.</summary>
    public string MetricsAddress { get; set; } = "";

    public static string Version { get; } = typeof(AgentIdentity).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public DeviceInfo DeviceInfo => new()
    {
        Kind = Device.Kind,
        Index = Device.Index,
        Name = Device.Name,
        TotalMemoryBytes = Device.TotalMemoryBytes,
    };
}
