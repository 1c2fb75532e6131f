using AccelBroker.Tests.Logging;
using AccelBroker.Broker;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core.Interceptors;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;
using TracerProvider = OpenTelemetry.Trace.TracerProvider;

namespace AccelBroker.Tests.Integration;

/// <summary>With an OTLP endpoint set, the broker's spans reach it; without one, no exporter exists.</summary>
public sealed class BrokerTraceExportTests
{
    [Fact]
    public async Task ABrokerWithAnOtlpEndpointExportsItsSpansThere()
    {
        await using OtlpReceiver receiver = await OtlpReceiver.StartAsync();

        // Never the process's console: an in-process CLI test running meanwhile captures it as the verb's output.
        WebApplication broker = BrokerHost.Build(new BrokerOptions { Listen = "http://127.0.0.1:0", OtlpEndpoint = receiver.Url }, logging => logging.ClearProviders().AddSuiteScan());
        string adminKey = BrokerHost.CreateApiKey(broker, "trace-admin");
        await broker.StartAsync();
        TestCredentials.Register(broker.Urls.First(), adminKey);
        try
        {
            using GrpcChannel channel = GrpcChannel.ForAddress(broker.Urls.First());
            var client = new AccelBroker.Protocol.V1.Broker.BrokerClient(channel.Intercept(TestCredentials.Adding(broker.Urls.First())));
            await client.RegisterAgentAsync(
                new RegisterAgentRequest
                {
                    AgentId = "traced-agent",
                    Address = "http://127.0.0.1:1",
                    Device = new DeviceInfo { Kind = "cpu", Name = "cpu" },
                    Capacity = new AgentCapacity { MemoryBytes = 1L << 30, Compute = 1 },
                },
                deadline: DateTime.UtcNow.AddSeconds(30));
            RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "traced-host", Ordinal = 3 }, deadline: DateTime.UtcNow.AddSeconds(30)));
            Assert.Equal(StatusCode.NotFound, error.StatusCode);
        }
        finally
        {
            // Stopping flushes the batch of spans not exported yet.
            await broker.StopAsync();
            await broker.DisposeAsync();
        }

        byte[] spans = [.. receiver.Posts.SelectMany(post => post.Body)];
        Assert.All(receiver.Posts, post => Assert.Equal("/v1/traces", post.Path));
        Assert.True(OtlpReceiver.Contains(spans, "broker.register_agent"), "the registration has a span");
        Assert.True(OtlpReceiver.Contains(spans, "traced-agent"), "the registration's span names its agent");
        Assert.True(OtlpReceiver.Contains(spans, "broker.resolve_accelerator"), "the resolve has a span");
        Assert.True(OtlpReceiver.Contains(spans, "traced-host"), "the resolve's span names its host");
        Assert.True(OtlpReceiver.Contains(spans, nameof(StatusCode.NotFound)), "the failed resolve carries its status");
        Assert.True(OtlpReceiver.Contains(spans, "AccelBroker.Broker"), "the spans name their source");
    }

    [Fact]
    public async Task ABrokerWithoutAnOtlpEndpointHasNoTracer()
    {
        await using WebApplication broker = BrokerHost.Build(new BrokerOptions { Listen = "http://127.0.0.1:0" }, logging => logging.ClearProviders().AddSuiteScan());

        Assert.Null(broker.Services.GetService<TracerProvider>());
    }
}
