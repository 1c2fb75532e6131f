using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AccelBroker.Agent.Execution;
using AccelBroker.Cli.Hosting;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>
/// The broker's and the agent's Prometheus endpoints, scraped over HTTP/1.1 as Prometheus does, each on its own
/// port next to the gRPC (h2c) one. Each test has its own fleet, so fleet-wide counts are exact.
/// </summary>
public sealed class MetricsTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public async Task AnAttachedAcceleratorShowsInBothScrapesAndGoesWithItsDetach()
    {
        await using LoopbackFleet fleet = await StartAsync();
        Accelerator accelerator = await fleet.AttachAsync("metrics-host", "eia2.medium");
        (string, string)[] tags =
        [
            ("host", "metrics-host"), ("ordinal", "0"), ("accelerator_id", accelerator.Id), ("slice_type", "eia2.medium"),
        ];

        PrometheusScrape broker = await PrometheusScrape.FetchAsync(fleet.BrokerMetricsUrl!);
        Assert.Equal(1, broker.Value("accelbroker_broker_accelerators"));
        Assert.Equal(1, broker.Value("accelbroker_broker_agents", ("status", "healthy")));
        Assert.Equal(0, broker.Value("accelbroker_broker_agents", ("status", "unhealthy")));
        Assert.Equal(0, broker.Value("accelbroker_broker_accelerator_health_check_failed", tags));
        Assert.Equal(2048 * MiB, broker.Value("accelbroker_broker_accelerator_memory_bytes", tags));

        PrometheusScrape agent = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
        Assert.Equal(1, agent.Value("accelbroker_agent_slices"));
        Assert.Equal(accelerator.MemoryBytes, agent.Value("accelbroker_agent_slice_memory_bytes", ("slice", accelerator.Id)));
        Assert.Equal(2048 * MiB, accelerator.MemoryBytes);
        Assert.Equal(0.125, agent.Value("accelbroker_agent_slice_compute_share", ("slice", accelerator.Id)));
        Assert.Equal(0, agent.Value("accelbroker_agent_models_loaded", ("slice", accelerator.Id)));
        Assert.Equal(0, agent.Value("accelbroker_agent_slice_queue_depth", ("slice", accelerator.Id)));
        Assert.Equal(0, agent.Value("accelbroker_agent_slice_compute_time_seconds_total", ("slice", accelerator.Id)));
        Assert.Equal(1, agent.Value("accelbroker_agent_execution_slots"));

        using (AcceleratorSession session = await fleet.OpenSessionAsync("metrics-host", 0))
        {
            RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
            await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);
            agent = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
            Assert.Equal(1, agent.Value("accelbroker_agent_models_loaded", ("slice", accelerator.Id)));
            Assert.Equal(1, agent.Value("accelbroker_agent_slice_models_known", ("slice", accelerator.Id)));
            Assert.Equal(6432, agent.Value("accelbroker_agent_slice_memory_charged_bytes", ("slice", accelerator.Id)));
            Assert.Equal(1, agent.Value("accelbroker_agent_slice_model_loads_total", ("slice", accelerator.Id)));
            Assert.Equal(0, agent.Value("accelbroker_agent_slice_model_evictions_total", ("slice", accelerator.Id)));
            Assert.True(agent.Value("accelbroker_agent_slice_compute_time_seconds_total", ("slice", accelerator.Id)) > 0);
            // The slice's own worker process holds libtorch and the model.
            Assert.True(agent.Value("accelbroker_agent_slice_worker_resident_memory_bytes", ("slice", accelerator.Id)) > 10 * MiB);
            Assert.Equal(0, agent.Value("accelbroker_agent_slice_worker_crashes_total", ("slice", accelerator.Id)));
            Assert.Equal(0, agent.Value("accelbroker_agent_models_quarantined"));
        }

        await fleet.BrokerClient.DetachAsync(new DetachRequest { Host = "metrics-host", Ordinal = 0 }, deadline: LoopbackFleet.Deadline());
        // The agent's scheduler forgot the slice too, not only the metrics.
        Assert.Equal(default, fleet.Agent.Services.GetRequiredService<ComputeScheduler>().UsageOf(accelerator.Id));

        broker = await PrometheusScrape.FetchAsync(fleet.BrokerMetricsUrl!);
        Assert.Equal(0, broker.Value("accelbroker_broker_accelerators"));
        Assert.Empty(broker.Matching("accelbroker_broker_accelerator_health_check_failed"));
        Assert.Empty(broker.Matching("accelbroker_broker_accelerator_memory_bytes"));
        agent = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
        Assert.Equal(0, agent.Value("accelbroker_agent_slices"));
        Assert.Empty(agent.Matching("accelbroker_agent_slice_memory_bytes"));
        Assert.Empty(agent.Matching("accelbroker_agent_models_loaded"));
        Assert.Empty(agent.Matching("accelbroker_agent_slice_queue_depth"));
        Assert.Empty(agent.Matching("accelbroker_agent_slice_compute_time_seconds_total"));
        Assert.Empty(agent.Matching("accelbroker_agent_slice_worker_resident_memory_bytes"));
    }

    [Fact]
    public async Task BothScrapesCarryTheRuntimesHeapAndWorkingSet()
    {
        await using LoopbackFleet fleet = await StartAsync();
        // The heap-size gauges report the last collection; make sure there was one.
        GC.Collect();

        foreach (string url in new[] { fleet.BrokerMetricsUrl!, fleet.AgentMetricsUrl! })
        {
            PrometheusScrape scrape = await PrometheusScrape.FetchAsync(url);
            Assert.True(scrape.Value("dotnet_process_memory_working_set_bytes") > 10 * MiB, url);
            Assert.NotEmpty(scrape.Matching("dotnet_gc_last_collection_heap_size_bytes"));
            Assert.True(scrape.Matching("dotnet_gc_last_collection_heap_size_bytes").Sum(s => s.Value) > 0, url);
        }
    }

    [Fact]
    public async Task RunsShowInTheAgentsScrapeBySliceModelAndOutcome()
    {
        await using LoopbackFleet fleet = await StartAsync();
        Accelerator accelerator = await fleet.AttachAsync("runs-host", "eia2.medium");
        string modelId;
        await using (AcceleratorSession session = await fleet.OpenSessionAsync("runs-host", 0))
        {
            RemoteModel model = await session.LoadModelAsync(Fixtures.Path("demo_mlp.pt"));
            modelId = model.ModelId;
            for (int i = 0; i < 3; i++)
            {
                await session.RunAsync(model, [Fixtures.Npy("demo_mlp.input0.npy")]);
            }

            await Assert.ThrowsAsync<RpcException>(() => session.RunAsync(model, [Tensor.Zeros(TensorDataType.Float32, 1, 15)]));
        }

        PrometheusScrape agent = await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!);
        (string, string) slice = ("slice", accelerator.Id);
        (string, string) modelTag = ("model", modelId);
        Assert.Equal(3, agent.Value("accelbroker_agent_inferences_total", slice, modelTag, ("outcome", "ok")));
        Assert.Equal(1, agent.Value("accelbroker_agent_inferences_total", slice, modelTag, ("outcome", "error")));
        foreach (string phase in new[] { "total", "queue", "decode", "compute", "encode" })
        {
            Assert.Equal(3, agent.Value("accelbroker_agent_inference_duration_seconds_count", slice, modelTag, ("phase", phase)));
        }

        // Every completed run took more than nothing and fits under the last finite bucket's +Inf.
        Assert.True(agent.Value("accelbroker_agent_inference_duration_seconds_sum", slice, modelTag, ("phase", "total")) > 0);
        Assert.Equal(3, agent.Value("accelbroker_agent_inference_duration_seconds_bucket", slice, modelTag, ("phase", "total"), ("le", "+Inf")));

        // Nothing waits once the runs are done. Each run held its slot through decode, compute and encode, and
        // the failed one for a while too, so the slice used at least the time of those phases of the three.
        Assert.Equal(0, agent.Value("accelbroker_agent_slice_queue_depth", slice));
        double executing = new[] { "decode", "compute", "encode" }
            .Sum(phase => agent.Value("accelbroker_agent_inference_duration_seconds_sum", slice, modelTag, ("phase", phase)));
        double used = agent.Value("accelbroker_agent_slice_compute_time_seconds_total", slice);
        Assert.InRange(used, executing, executing + 10);
    }

    [Fact]
    public async Task GrpcPortsServeNoMetricsAndMetricsPortsServeNothingElse()
    {
        await using LoopbackFleet fleet = await StartAsync();
        using HttpClient http1 = PrometheusScrape.Http1Client();
        using var http2 = new HttpClient
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(10),
        };

        foreach ((string grpcUrl, string metricsUrl) in new[] { (fleet.BrokerUrl, fleet.BrokerMetricsUrl!), (fleet.AgentUrl, fleet.AgentMetricsUrl!) })
        {
            Assert.NotEqual(new Uri(grpcUrl).Port, new Uri(metricsUrl).Port);

            // The gRPC port is h2c only: Prometheus' HTTP/1.1 scrape is refused, and over HTTP/2 there is no /metrics.
            using (HttpResponseMessage response = await http1.GetAsync(new Uri(new Uri(grpcUrl), "/metrics")))
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.DoesNotContain("accelbroker_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using (HttpResponseMessage response = await http2.GetAsync(new Uri(new Uri(grpcUrl), "/metrics")))
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                Assert.DoesNotContain("accelbroker_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            // The metrics port serves /metrics only: other paths and gRPC methods are not found there.
            using (HttpResponseMessage response = await http1.GetAsync(new Uri(new Uri(metricsUrl), "/other")))
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }

            using var grpcOverHttp1 = new ByteArrayContent([0, 0, 0, 0, 0]);
            grpcOverHttp1.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
            using (HttpResponseMessage response = await http1.PostAsync(new Uri(new Uri(metricsUrl), "/accelbroker.v1.Broker/DescribeAgents"), grpcOverHttp1))
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }

            using GrpcChannel channel = GrpcChannel.ForAddress(new Uri(new Uri(metricsUrl), "/"));
            var client = new Protocol.V1.Broker.BrokerClient(channel);
            await Assert.ThrowsAsync<RpcException>(
                () => client.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
        }

        // Both hosts keep serving gRPC and metrics after all that.
        Assert.Single((await fleet.BrokerClient.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: LoopbackFleet.Deadline())).Agents);
        Assert.Equal(0, (await PrometheusScrape.FetchAsync(fleet.AgentMetricsUrl!)).Value("accelbroker_agent_slices"));
    }

    [Fact]
    public async Task DescribeAgentsShowsTheAgentsScrapeableMetricsAddress()
    {
        await using LoopbackFleet fleet = await StartAsync();
        await fleet.AttachAsync("cli-host", "eia2.medium");

        CliProcess.Result result = await CliInProcess.RunAsync("describe-agents", "--json", "--broker", fleet.BrokerUrl, "--api-key-file", TestCredentials.Register(fleet.BrokerUrl, fleet.AdminKey));
        TestCredentials.Forget(fleet.BrokerUrl);

        Assert.Equal(0, result.ExitCode);
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        JsonElement agent = json.RootElement.GetProperty("agents")[0];
        Assert.Equal(fleet.AgentUrl.TrimEnd('/'), agent.GetProperty("address").GetString()!.TrimEnd('/'));
        string? address = agent.GetProperty("metrics_address").GetString();
        Assert.Equal(fleet.AgentMetricsUrl, address);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/metrics$", address);
        Assert.Equal(1, (await PrometheusScrape.FetchAsync(address!)).Value("accelbroker_agent_slices"));
    }

    [Fact]
    public async Task WithoutTheOptionNoMetricsAddressIsReported()
    {
        await using LoopbackFleet fleet = await LoopbackFleet.StartAsync(new LoopbackFleetOptions { AgentMemoryBytes = 16L << 30 });

        Assert.Null(fleet.BrokerMetricsUrl);
        Assert.Null(fleet.AgentMetricsUrl);
        Assert.Single(fleet.Broker.Urls);
        Assert.Equal("", (await fleet.BrokerClient.DescribeAgentsAsync(new DescribeAgentsRequest(), deadline: LoopbackFleet.Deadline())).Agents[0].MetricsAddress);
    }

    private static Task<LoopbackFleet> StartAsync() =>
        LoopbackFleet.StartAsync(new LoopbackFleetOptions { EnableMetrics = true, AgentMemoryBytes = 16L << 30 });
}
