using AccelBroker.Broker;
using AccelBroker.Broker.Fleet;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Broker;

public sealed class AgentRegistryTests
{
    private static readonly BrokerOptions s_options = new() { HeartbeatInterval = TimeSpan.FromSeconds(2), MissedHeartbeats = 3 };

    private readonly FakeTimeProvider _time = new();
    private readonly AgentRegistry _registry;

    public AgentRegistryTests()
    {
        _registry = new AgentRegistry(s_options, new InMemoryAgentStore(), _time, NullLogger<AgentRegistry>.Instance);
    }

    internal static RegisterAgentRequest Request(string agentId = "", string address = "http://127.0.0.1:7001") => new()
    {
        AgentId = agentId,
        Address = address,
        Device = new DeviceInfo { Kind = "cpu", Name = "test cpu", TotalMemoryBytes = 16L << 30 },
        Capacity = new AgentCapacity { MemoryBytes = 16L << 30, Compute = 1.0 },
        InstanceType = "c5.large",
        Version = "1.0",
    };

    [Fact]
    public void RegistrationWithoutIdGetsANewId()
    {
        AgentRecord first = _registry.Register(Request());
        AgentRecord second = _registry.Register(Request());

        Assert.Matches("^agent-[0-9a-f]{12}$", first.AgentId);
        Assert.Matches("^agent-[0-9a-f]{12}$", second.AgentId);
        Assert.NotEqual(first.AgentId, second.AgentId);
        Assert.Equal(2, _registry.Snapshot().Count);
    }

    [Fact]
    public void ReregistrationKeepsTheIdAndUpdatesTheRecord()
    {
        AgentRecord first = _registry.Register(Request());
        _time.Advance(TimeSpan.FromSeconds(1));

        RegisterAgentRequest again = Request(first.AgentId, "http://127.0.0.1:7002");
        again.Capacity.Compute = 0.5;
        AgentRecord second = _registry.Register(again);

        Assert.Equal(first.AgentId, second.AgentId);
        Assert.Equal("http://127.0.0.1:7002", second.Address);
        Assert.Equal(0.5, second.CapacityCompute);
        Assert.Equal(first.RegisteredAt, second.RegisteredAt);
        Assert.Equal(_time.GetUtcNow(), second.LastSeen);
        Assert.Single(_registry.Snapshot());
    }

    [Fact]
    public void AnIdUnknownToThisBrokerIsKept()
    {
        // After a broker restart, agents come back with the ids they were given before.
        AgentRecord agent = _registry.Register(Request("agent-0123456789ab"));

        Assert.Equal("agent-0123456789ab", agent.AgentId);
        Assert.True(_registry.TryGet("agent-0123456789ab", out _));
    }

    [Fact]
    public void HealthyUntilIntervalTimesMissedThenUnhealthyThenHealthyAfterAHeartbeat()
    {
        AgentRecord agent = _registry.Register(Request());
        Assert.True(_registry.IsHealthy(agent));

        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.True(_registry.IsHealthy(Current(agent.AgentId)));

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.False(_registry.IsHealthy(Current(agent.AgentId)));

        Assert.True(_registry.TryRecordHeartbeat(agent.AgentId, out AgentRecord? beaten));
        Assert.True(_registry.IsHealthy(beaten));
        Assert.Equal(_time.GetUtcNow(), beaten.LastSeen);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(_registry.TryRecordHeartbeat(agent.AgentId, out _));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(_registry.IsHealthy(Current(agent.AgentId)));
    }

    [Fact]
    public void ReregistrationMakesAnAgentHealthyAgain()
    {
        AgentRecord agent = _registry.Register(Request());
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(_registry.IsHealthy(Current(agent.AgentId)));

        _registry.Register(Request(agent.AgentId));

        Assert.True(_registry.IsHealthy(Current(agent.AgentId)));
    }

    [Fact]
    public void HeartbeatFromAnUnknownAgentIsRefused()
    {
        Assert.False(_registry.TryRecordHeartbeat("agent-unknown", out AgentRecord? agent));
        Assert.Null(agent);
    }

    [Fact]
    public void LostAgentsAreReportedOnceUntilHeardFromAgain()
    {
        AgentRecord agent = _registry.Register(Request());
        Assert.Empty(_registry.TakeNewlyLost());

        _time.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal([agent.AgentId], _registry.TakeNewlyLost().Select(a => a.AgentId));
        Assert.Empty(_registry.TakeNewlyLost());

        _registry.TryRecordHeartbeat(agent.AgentId, out _);
        Assert.Empty(_registry.TakeNewlyLost());
        _time.Advance(TimeSpan.FromSeconds(7));
        Assert.Single(_registry.TakeNewlyLost());
    }

    [Theory]
    [InlineData("address", "", "address '' is not an absolute http or https URI")]
    [InlineData("address", "10.0.0.5:7001", "is not an absolute http or https URI")]
    [InlineData("address", "ftp://10.0.0.5", "address 'ftp://10.0.0.5' is not an absolute http or https URI")]
    [InlineData("address", "/relative", "is not an absolute http or https URI")]
    [InlineData("metrics_address", "10.0.0.5:9464/metrics", "metrics_address '10.0.0.5:9464/metrics' is not an absolute http or https URI")]
    [InlineData("metrics_address", "ftp://10.0.0.5/metrics", "metrics_address 'ftp://10.0.0.5/metrics' is not an absolute http or https URI")]
    [InlineData("agent_id", "bad id!", "agent_id 'bad id!' is not valid")]
    [InlineData("device", "tpu", "device kind 'tpu' is not supported: use \"cpu\" or \"cuda\"")]
    [InlineData("device", "CPU", "device kind 'CPU' is not supported")]
    [InlineData("memory", "0", "capacity memory_bytes must be greater than 0 (got 0)")]
    [InlineData("memory", "-1", "capacity memory_bytes must be greater than 0 (got -1)")]
    [InlineData("compute", "0", "capacity compute must be greater than 0 and at most 1 (got 0)")]
    [InlineData("compute", "1.5", "capacity compute must be greater than 0 and at most 1 (got 1.5)")]
    [InlineData("compute", "NaN", "capacity compute must be greater than 0 and at most 1")]
    [InlineData("no-device", "", "device is required")]
    [InlineData("no-capacity", "", "capacity is required")]
    public void InvalidRegistrationIsRefusedAndNothingIsRecorded(string field, string value, string message)
    {
        RegisterAgentRequest request = Apply(Request(), field, value);

        var ex = Assert.Throws<DomainException>(() => _registry.Register(request));

        Assert.Equal(DomainErrorKind.InvalidInput, ex.Kind);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Empty(_registry.Snapshot());
    }

    [Theory]
    [InlineData("http://10.0.0.5:7001")]
    [InlineData("https://agent.example:443")]
    public void ValidAddressesAreAccepted(string address)
    {
        Assert.Equal(address, _registry.Register(Request(address: address)).Address);
    }

    internal static RegisterAgentRequest Apply(RegisterAgentRequest request, string field, string value)
    {
        switch (field)
        {
            case "address":
                request.Address = value;
                break;
            case "agent_id":
                request.AgentId = value;
                break;
            case "device":
                request.Device.Kind = value;
                break;
            case "memory":
                request.Capacity.MemoryBytes = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "compute":
                request.Capacity.Compute = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "no-device":
                request.Device = null;
                break;
            case "metrics_address":
                request.MetricsAddress = value;
                break;
            case "no-capacity":
                request.Capacity = null;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(field), field, null);
        }

        return request;
    }

    private AgentRecord Current(string agentId)
    {
        Assert.True(_registry.TryGet(agentId, out AgentRecord? agent));
        return agent;
    }
}
