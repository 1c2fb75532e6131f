using AccelBroker.Tests.Logging;
using AccelBroker.Agent;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Tokens;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>With an OTLP endpoint set, the agent's spans reach it; without one, nothing is sent anywhere.</summary>
public sealed class TraceExportTests
{
    [Fact]
    public async Task AnAgentWithAnOtlpEndpointExportsItsRunSpansThere()
    {
        await using OtlpReceiver receiver = await OtlpReceiver.StartAsync();

        WebApplication agent = AgentHost.Build(new AgentOptions
        {
            Listen = "http://127.0.0.1:0",
            OtlpEndpoint = receiver.Url,
            DataDirectory = Path.Combine(Path.GetTempPath(), $"accel-otlp-{Guid.NewGuid():N}"),
            AgentId = "otlp-agent",
        },
        // Never the process's console: an in-process CLI test running meanwhile captures it as the verb's output.
        logging => logging.ClearProviders().AddSuiteScan());
        await agent.StartAsync();
        using var issuer = new TestTokenIssuer();
        try
        {
            using GrpcChannel channel = GrpcChannel.ForAddress(agent.Urls.First());
            CallInvoker invoker = issuer.TrustedBy(agent.Services, channel, "otlp-agent");
            await new AgentControl.AgentControlClient(invoker).AssignSliceAsync(
                new AssignSliceRequest { Slice = new SliceAssignment { SliceId = "traced-slice", SliceType = "t", MemoryBytes = 64L << 20, ComputeShare = 0.1, Host = "h" } },
                deadline: DateTime.UtcNow.AddSeconds(30));
            var client = new InferenceAgent.InferenceAgentClient(invoker);
            RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.RunAsync(new RunRequest { SliceId = "traced-slice", ModelId = "no-such-model" }, deadline: DateTime.UtcNow.AddSeconds(30)));
            Assert.Equal(StatusCode.NotFound, error.StatusCode);
        }
        finally
        {
            // Stopping flushes the batch of spans not exported yet.
            await agent.StopAsync();
            await agent.DisposeAsync();
        }

        (string path, byte[] spans) = Assert.Single(receiver.Posts, post => OtlpReceiver.Contains(post.Body, "agent.run"));
        Assert.Equal("/v1/traces", path);
        Assert.True(OtlpReceiver.Contains(spans, "traced-slice"), "the span names its slice");
        Assert.True(OtlpReceiver.Contains(spans, "AccelBroker.Agent"), "the span names its source");
    }
}
