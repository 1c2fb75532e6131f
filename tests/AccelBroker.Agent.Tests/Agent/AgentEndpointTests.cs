using AccelBroker.Agent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>The broker's control calls and the clients' inference calls are mapped apart, so a policy can treat them apart.</summary>
public sealed class AgentEndpointTests
{
    private sealed record Marker;

    [Fact]
    public async Task AConventionOnTheControlServiceReachesOnlyItsEndpoints()
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.Services.AddAcceleratorAgent(new AgentOptions { Listen = "http://127.0.0.1:0" });
        await using WebApplication app = builder.Build();

        AcceleratorAgentEndpointConventionBuilder mapped = app.MapAcceleratorAgent();
        mapped.Control.WithMetadata(new Marker());

        List<RouteEndpoint> endpoints = [.. ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()];
        List<string> marked = [.. endpoints.Where(e => e.Metadata.GetMetadata<Marker>() is not null).Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))];
        Assert.Contains("/accelbroker.v1.AgentControl/AssignSlice", marked);
        Assert.All(marked, pattern => Assert.StartsWith("/accelbroker.v1.AgentControl/", pattern, StringComparison.Ordinal));
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/accelbroker.v1.InferenceAgent/Run" && e.Metadata.GetMetadata<Marker>() is null);
    }

    [Fact]
    public async Task EachServiceCanBeMappedAlone()
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.Services.AddAcceleratorAgent(new AgentOptions { Listen = "http://127.0.0.1:0" });
        await using WebApplication app = builder.Build();

        app.MapAgentInference();

        List<string> patterns = [.. ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>().Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))];
        Assert.Contains("/accelbroker.v1.InferenceAgent/Run", patterns);
        Assert.DoesNotContain(patterns, pattern => pattern.StartsWith("/accelbroker.v1.AgentControl/", StringComparison.Ordinal));
    }
}
