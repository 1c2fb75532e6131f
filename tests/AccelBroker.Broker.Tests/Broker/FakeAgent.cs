using AccelBroker.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Broker;

/// <summary>A real gRPC server on 127.0.0.1:0 serving <see cref="FakeAgentControl"/>, in place of the real agent.</summary>
public sealed class FakeAgent : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeAgent(WebApplication app, FakeAgentControl control, string address)
    {
        _app = app;
        Control = control;
        Address = address;
    }

    public FakeAgentControl Control { get; }

    public string Address { get; }

    public static async Task<FakeAgent> StartAsync(ITestOutputHelper output)
    {
        var control = new FakeAgentControl();
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(l => l.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output, "agent"));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(control);
        WebApplication app = builder.Build();
        app.MapGrpcService<FakeAgentControl>();
        await app.StartAsync();
        return new FakeAgent(app, control, app.Urls.Single());
    }

    /// <summary>Registers this agent with the broker as a cpu agent of the given capacity.</summary>
    public Task<RegisterAgentResponse> RegisterAsync(BrokerClient broker, long memoryBytes = 16L << 30, double compute = 1.0, string agentId = "") =>
        RegisterAt(broker, Address, memoryBytes, compute, agentId);

    public static async Task<RegisterAgentResponse> RegisterAt(BrokerClient broker, string address, long memoryBytes = 16L << 30, double compute = 1.0, string agentId = "") =>
        await broker.RegisterAgentAsync(new RegisterAgentRequest
        {
            AgentId = agentId,
            Address = address,
            Device = new DeviceInfo { Kind = "cpu", Name = "test cpu", TotalMemoryBytes = memoryBytes },
            Capacity = new AgentCapacity { MemoryBytes = memoryBytes, Compute = compute },
            InstanceType = "c5.large",
            Version = "test",
        });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
