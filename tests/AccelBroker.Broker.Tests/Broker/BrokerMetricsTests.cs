using AccelBroker.Broker;
using AccelBroker.Hosting.Metrics;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Broker;

/// <summary>The broker's Prometheus endpoint against a fake agent, with virtual time for health.</summary>
[Collection(ProcessConsoleCollection.Name)]
public sealed class BrokerMetricsTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public async Task HealthCheckFailedFollowsTheAgentsHeartbeats()
    {
        var time = new FakeTimeProvider();
        await using BrokerTestHost broker = await BrokerTestHost.StartAsync(output, new BrokerOptions { MetricsListen = "http://127.0.0.1:0" }, time);
        await using FakeAgent agent = await FakeAgent.StartAsync(output);
        RegisterAgentResponse registered = await broker.Client.RegisterAgentAsync(new RegisterAgentRequest
        {
            Address = agent.Address,
            Device = new DeviceInfo { Kind = "cpu", Name = "test cpu", TotalMemoryBytes = 16L << 30 },
            Capacity = new AgentCapacity { MemoryBytes = 16L << 30, Compute = 1 },
            MetricsAddress = "http://agent-1.example:9464/metrics",
        });
        Accelerator accelerator = (await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.large" })).Accelerator;
        string url = broker.Services.GetRequiredService<MetricsEndpoint>().ScrapeUrl();
        (string, string)[] tags = [("host", "h"), ("ordinal", "0"), ("accelerator_id", accelerator.Id), ("slice_type", "eia2.large")];

        Assert.Matches(@"^http://127\.0\.0\.1:[1-9][0-9]*/metrics$", url);
        Assert.Equal("http://agent-1.example:9464/metrics", (await broker.Client.DescribeAgentsAsync(new DescribeAgentsRequest())).Agents[0].MetricsAddress);
        PrometheusScrape healthy = await PrometheusScrape.FetchAsync(url);
        Assert.Equal(0, healthy.Value("accelbroker_broker_accelerator_health_check_failed", tags));
        Assert.Equal(4096 * MiB, healthy.Value("accelbroker_broker_accelerator_memory_bytes", tags));
        Assert.Equal(1, healthy.Value("accelbroker_broker_agents", ("status", "healthy")));

        time.Advance(new BrokerOptions().UnhealthyAfter + TimeSpan.FromTicks(1));

        PrometheusScrape lost = await PrometheusScrape.FetchAsync(url);
        Assert.Equal(1, lost.Value("accelbroker_broker_accelerator_health_check_failed", tags));
        Assert.Equal(0, lost.Value("accelbroker_broker_agents", ("status", "healthy")));
        Assert.Equal(1, lost.Value("accelbroker_broker_agents", ("status", "unhealthy")));
        Assert.Equal(1, lost.Value("accelbroker_broker_accelerators"));

        await broker.Client.HeartbeatAsync(new HeartbeatRequest { AgentId = registered.AgentId });

        PrometheusScrape back = await PrometheusScrape.FetchAsync(url);
        Assert.Equal(0, back.Value("accelbroker_broker_accelerator_health_check_failed", tags));
        Assert.Equal(1, back.Value("accelbroker_broker_agents", ("status", "healthy")));
    }

    [Fact]
    public async Task AMetricsPortInUseFailsTheStartNamingIt()
    {
        await using BrokerTestHost first = await BrokerTestHost.StartAsync(output, new BrokerOptions { MetricsListen = "http://127.0.0.1:0" });
        string taken = new Uri(first.Services.GetRequiredService<MetricsEndpoint>().ScrapeUrl()).GetLeftPart(UriPartial.Authority);
        TextWriter error = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            int exitCode = await Program.Main(["--listen", "http://127.0.0.1:0", "--metrics-listen", taken]).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(1, exitCode);
        }
        finally
        {
            Console.SetError(error);
        }

        Assert.Contains($"broker: cannot listen on http://127.0.0.1:0 and {taken}", captured.ToString(), StringComparison.Ordinal);
    }
}
