using AccelBroker.Agent;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
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
        });
        await agent.StartAsync();
        try
        {
            using GrpcChannel channel = GrpcChannel.ForAddress(agent.Urls.First());
            var client = new InferenceAgent.InferenceAgentClient(channel);
            RpcException error = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.RunAsync(new RunRequest { SliceId = "no-such-slice", ModelId = "m" }, deadline: DateTime.UtcNow.AddSeconds(30)));
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
        Assert.True(OtlpReceiver.Contains(spans, "no-such-slice"), "the span names its slice");
        Assert.True(OtlpReceiver.Contains(spans, "AccelBroker.Agent"), "the span names its source");
    }
}
