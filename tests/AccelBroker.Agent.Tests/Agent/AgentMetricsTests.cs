using AccelBroker.Tests.Logging;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using AccelBroker.Agent;
using AccelBroker.Agent.Registration;
using AccelBroker.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>The agent's Prometheus endpoint and the address it reports, on a standalone agent.</summary>
public sealed class AgentMetricsTests
{
    [Fact]
    public async Task TheReportedMetricsAddressUsesTheAdvertisedHostAndTheBoundPort()
    {
        string dataDirectory = Directory.CreateTempSubdirectory("accel-agent-metrics-").FullName;
        try
        {
            WebApplication app = AgentHost.Build(
                new AgentOptions
                {
                    Listen = "http://127.0.0.1:0",
                    MetricsListen = "http://127.0.0.1:0",
                    AdvertiseAddress = "http://agent-1.example:7001",
                    DataDirectory = dataDirectory,
                    MemoryBytes = 1L << 30,
                },
                logging => logging.SetMinimumLevel(LogLevel.Warning).AddSuiteScan());
            await using (app)
            {
                await app.StartAsync();
                string reported = app.Services.GetRequiredService<AgentIdentity>().MetricsAddress;

                Match match = Regex.Match(reported, @"^http://agent-1\.example:([1-9][0-9]*)/metrics$");
                Assert.True(match.Success, reported);
                string url = $"http://127.0.0.1:{match.Groups[1].Value}/metrics";
                PrometheusScrape scrape = await PrometheusScrape.FetchAsync(url);
                Assert.Equal(0, scrape.Value("accelbroker_agent_slices"));

                // Any instrument added to the agent's meter later is exported too; a histogram in seconds
                // without bucket advice gets sub-millisecond buckets rather than OpenTelemetry's 0, 5, 10, ...
                Meter meter = app.Services.GetRequiredService<IMeterFactory>().Create("AccelBroker.Agent");
                Histogram<double> histogram = meter.CreateHistogram<double>("accelbroker.test.duration", unit: "s");
                histogram.Record(0.003, new KeyValuePair<string, object?>("slice", "s1"));
                scrape = await PrometheusScrape.FetchAsync(url);
                Assert.Equal(1, scrape.Value("accelbroker_test_duration_seconds_count", ("slice", "s1")));
                Assert.Equal(0, scrape.Value("accelbroker_test_duration_seconds_bucket", ("slice", "s1"), ("le", "0.0025")));
                Assert.Equal(1, scrape.Value("accelbroker_test_duration_seconds_bucket", ("slice", "s1"), ("le", "0.005")));
                await app.StopAsync();
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:0/stats", "metrics address 'http://127.0.0.1:0/stats' is not an absolute http or https URL without a path")]
    [InlineData("http://127.0.0.1:7001", "metrics address 'http://127.0.0.1:7001' must differ from the listen address 'http://127.0.0.1:7001'")]
    [InlineData("http://localhost:0", "metrics address 'http://localhost:0' asks for a free port on a host name; use an IP address such as http://127.0.0.1:0")]
    public void AnInvalidMetricsAddressFailsTheBuild(string metricsListen, string message)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(
            () => AgentHost.Build(new AgentOptions { Listen = "http://127.0.0.1:7001", MetricsListen = metricsListen }));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
