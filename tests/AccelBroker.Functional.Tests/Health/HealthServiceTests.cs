using AccelBroker.Tests.Logging;
using System.Net;
using System.Net.Sockets;
using AccelBroker.Agent;
using AccelBroker.Broker;
using AccelBroker.Hosting.Health;
using AccelBroker.Tests.Broker;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Xunit;
using static Grpc.Health.V1.HealthCheckResponse.Types;

namespace AccelBroker.Tests.Health;

/// <summary>
/// The standard grpc.health.v1 service on both hosts, asked as a probe asks it: no credential, readiness as the
/// overall service "", liveness as "liveness".
/// </summary>
public sealed class HealthServiceTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task BrokerIsReadyAndLiveWithoutCredentials()
    {
        await using WebApplication broker = BrokerHost.Build(new BrokerOptions { Listen = "http://127.0.0.1:0" }, logging => logging.ClearProviders().AddSuiteScan());
        await broker.StartAsync();
        using GrpcChannel channel = GrpcChannel.ForAddress(broker.Urls.First());
        var health = new Grpc.Health.V1.Health.HealthClient(channel);

        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), deadline: Deadline())).Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = HostHealth.LivenessService }, deadline: Deadline())).Status);
    }

    [Fact]
    public async Task UnknownServiceIsNotFoundAndTheBrokerKeepsServing()
    {
        await using WebApplication broker = BrokerHost.Build(new BrokerOptions { Listen = "http://127.0.0.1:0" }, logging => logging.ClearProviders().AddSuiteScan());
        await broker.StartAsync();
        using GrpcChannel channel = GrpcChannel.ForAddress(broker.Urls.First());
        var health = new Grpc.Health.V1.Health.HealthClient(channel);

        RpcException ex = await Assert.ThrowsAsync<RpcException>(async () => await health.CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }, deadline: Deadline()));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), deadline: Deadline())).Status);
    }

    [Fact]
    public async Task AgentIsNotReadyUntilItsBrokerIsReachableThenReadyOnceRegistered()
    {
        int brokerPort = FreePort();
        string brokerUrl = $"http://127.0.0.1:{brokerPort}";
        await using WebApplication agent = AgentHost.Build(
            new AgentOptions { Listen = "http://127.0.0.1:0", BrokerAddress = brokerUrl, MemoryBytes = 1L << 30, DataDirectory = TempDirectory() },
            logging => logging.ClearProviders().AddSuiteScan());
        await agent.StartAsync();
        using GrpcChannel channel = GrpcChannel.ForAddress(agent.Urls.First());
        var health = new Grpc.Health.V1.Health.HealthClient(channel);

        // The broker is not there: not ready, but alive, and the description says why.
        Assert.Equal(ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest(), deadline: Deadline())).Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = HostHealth.LivenessService }, deadline: Deadline())).Status);
        HealthReport report = await agent.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains(HostHealth.ReadyTag));
        Assert.Contains("not registered with broker " + brokerUrl, report.Entries["agent"].Description, StringComparison.Ordinal);

        using var watchEnd = new CancellationTokenSource(Bound);
        using AsyncServerStreamingCall<HealthCheckResponse> watch = health.Watch(new HealthCheckRequest(), cancellationToken: watchEnd.Token);
        Assert.True(await watch.ResponseStream.MoveNext(watchEnd.Token));
        Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);

        await using WebApplication broker = BrokerHost.Build(new BrokerOptions { Listen = brokerUrl }, logging => logging.ClearProviders().AddSuiteScan());
        await broker.StartAsync();

        // Watch sends a status when it changes: the next one is SERVING, once the agent's retry registers it.
        Assert.True(await watch.ResponseStream.MoveNext(watchEnd.Token));
        Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), deadline: Deadline())).Status);
    }

    [Fact]
    public async Task AgentWhoseDeviceFailsIsNotReadySaysWhyAndLogsItOnce()
    {
        var logs = new RecordingLoggerProvider();
        await using WebApplication agent = AgentHost.Build(
            new AgentOptions { Listen = "http://127.0.0.1:0", MemoryBytes = 1L << 30, DataDirectory = TempDirectory(), DeviceCheckInterval = TimeSpan.FromMilliseconds(50) },
            logging => logging.ClearProviders().AddProvider(logs),
            services => services.AddSingleton<Agent.Health.IDeviceCheck>(new FailingDeviceCheck()));
        await agent.StartAsync();
        using GrpcChannel channel = GrpcChannel.ForAddress(agent.Urls.First());
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        var monitor = agent.Services.GetRequiredService<Agent.Health.DeviceHealthMonitor>();

        // Checked several times (bounded), with the same answer each time.
        for (int i = 0; i < 3; i++)
        {
            monitor.CheckOnce();
        }

        Assert.Equal(ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest(), deadline: Deadline())).Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = HostHealth.LivenessService }, deadline: Deadline())).Status);
        HealthReport report = await agent.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains(HostHealth.ReadyTag));
        Assert.Equal("device cpu failed its check: the device fell off the bus", report.Entries["agent"].Description);
        Assert.Single(logs.Messages, m => m.Name == "DeviceUnhealthy");
    }

    [Fact]
    public async Task StandaloneAgentWithAWorkingDeviceIsReady()
    {
        await using WebApplication agent = AgentHost.Build(
            new AgentOptions { Listen = "http://127.0.0.1:0", MemoryBytes = 1L << 30, DataDirectory = TempDirectory() },
            logging => logging.ClearProviders().AddSuiteScan());
        await agent.StartAsync();
        agent.Services.GetRequiredService<Agent.Health.DeviceHealthMonitor>().CheckOnce();
        using GrpcChannel channel = GrpcChannel.ForAddress(agent.Urls.First());
        var health = new Grpc.Health.V1.Health.HealthClient(channel);

        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), deadline: Deadline())).Status);
    }

    private static DateTime Deadline() => DateTime.UtcNow.Add(Bound);

    private static string TempDirectory() => Path.Combine(Path.GetTempPath(), $"accel-health-{Guid.NewGuid():N}");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class FailingDeviceCheck : Agent.Health.IDeviceCheck
    {
        public void Run(Agent.Devices.ComputeDevice device) => throw new InvalidOperationException("the device fell off the bus");
    }
}
