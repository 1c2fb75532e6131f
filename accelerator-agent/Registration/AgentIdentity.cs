using AccelBroker.Agent.Devices;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Registration;

/// <summary>Who this agent is: its id (assigned by the broker), advertised address, device and capacity.</summary>
internal sealed class AgentIdentity
{
    public AgentIdentity(ComputeDevice device, AgentOptions options)
    {
        Device = device;
        AgentId = options.AgentId ?? "";
        long memory = options.MemoryBytes ?? (device.IsCuda ? device.TotalMemoryBytes * 9 / 10 : device.TotalMemoryBytes / 2);
        Capacity = new AgentCapacity { MemoryBytes = memory, Compute = options.Compute };
        InstanceType = options.InstanceType ?? "";
    }

    public ComputeDevice Device { get; }

    public AgentCapacity Capacity { get; }

    public string InstanceType { get; }

    public string AgentId { get; set; }

    public string Address { get; set; } = "";

    public static string Version { get; } = typeof(AgentIdentity).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public DeviceInfo DeviceInfo => new()
    {
        Kind = Device.Kind,
        Index = Device.Index,
        Name = Device.Name,
        TotalMemoryBytes = Device.TotalMemoryBytes,
    };
}
