using AccelBroker.Broker;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;

namespace AccelBroker.Tests.Broker;

/// <summary>A real broker (BrokerHost.Build) on 127.0.0.1:0 and a real gRPC client for it.</summary>
public sealed class BrokerTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    private BrokerTestHost(WebApplication app, string address, string adminKey)
    {
        _app = app;
        Address = address;
        AdminKey = adminKey;
        _channel = GrpcChannel.ForAddress(address);
        Client = ClientWith(adminKey);
        Anonymous = new BrokerClient(_channel);
    }

    public string Address { get; }

    /// <summary>The admin key the host made before start-up; <see cref="Client"/> sends it.</summary>
    public string AdminKey { get; }

    /// <summary>A client that sends no credential.</summary>
    public BrokerClient Anonymous { get; }

    /// <summary>A client of this broker that presents <paramref name="secret"/> as its bearer credential.</summary>
    public BrokerClient ClientWith(string secret) => new(_channel.Intercept(headers =>
    {
        // A call that brings its own credential (an agent's, say) keeps it.
        if (headers.Get("authorization") is null)
        {
            headers.Add("authorization", "Bearer " + secret);
        }

        return headers;
    }));

    public BrokerClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<BrokerTestHost> StartAsync(ITestOutputHelper output, BrokerOptions? options = null, TimeProvider? time = null, ILoggerProvider? logs = null, bool createAdminKey = true)
    {
        options = (options ?? new BrokerOptions()) with { Listen = "http://127.0.0.1:0" };
        WebApplication app = BrokerHost.Build(
            options,
            logging =>
            {
                logging.ClearProviders();
                logging.AddProvider(new TestOutputLoggerProvider(output, "broker"));
                if (logs is not null)
                {
                    logging.AddProvider(logs);
                }

                logging.SetMinimumLevel(LogLevel.Debug);
            },
            services =>
            {
                if (time is not null)
                {
                    services.AddSingleton(time);
                }
            });
        // Without one, a test sees what an operator's first start sees (AdminKeyFile or nothing).
        string adminKey = createAdminKey ? BrokerHost.CreateApiKey(app, "test-admin") : "";
        await app.StartAsync();
        return new BrokerTestHost(app, app.Urls.First(), adminKey);
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
