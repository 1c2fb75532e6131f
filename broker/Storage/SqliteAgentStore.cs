using AccelBroker.Broker.Fleet;
using AccelBroker.Protocol.V1;
using Google.Protobuf;

namespace AccelBroker.Broker.Storage;

/// <summary>
/// Agents in the <c>agents</c> table of broker.db, the device as its protobuf bytes. Last-seen and reported-lost are not
/// kept (the registry judges health afresh after a restart): they read back as the registration time and false.
/// </summary>
internal sealed class SqliteAgentStore(SqliteBrokerDatabase database) : IAgentStore
{
    public static SqliteTable<AgentRecord> Table { get; } = new("agents",
    [
        new("agent_id", a => a.AgentId),
        new("address", a => a.Address),
        new("device", a => a.Device.ToByteArray()),
        new("capacity_memory_bytes", a => a.CapacityMemoryBytes),
        new("capacity_compute", a => a.CapacityCompute),
        new("instance_type", a => a.InstanceType),
        new("version", a => a.Version),
        new("registered_at", a => SqliteRow.Text(a.RegisteredAt)),
        new("metrics_address", a => a.MetricsAddress),
        new("cordoned", a => a.Cordoned),
    ],
    row =>
    {
        DateTimeOffset registeredAt = row.Time("registered_at");
        return new AgentRecord(
            row.String("agent_id"),
            row.String("address"),
            ReadDevice(row.Blob("device")),
            row.Int64("capacity_memory_bytes"),
            row.Double("capacity_compute"),
            row.String("instance_type"),
            row.String("version"),
            registeredAt,
            LastSeen: registeredAt,
            ReportedLost: false)
        {
            MetricsAddress = row.String("metrics_address"),
            Cordoned = row.Boolean("cordoned"),
        };
    });

    public IReadOnlyList<AgentRecord> Load() => Table.Load(database);

    public void Save(IReadOnlyList<AgentRecord> agents) => Table.Save(database, agents);

    private static DeviceInfo ReadDevice(byte[] bytes)
    {
        try
        {
            return DeviceInfo.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException("column device is not a DeviceInfo message", ex);
        }
    }
}
