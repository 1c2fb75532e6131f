using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Isolation;
using AccelBroker.Agent.Metering;
using AccelBroker.Agent.Models;
using AccelBroker.Agent.Registration;
using AccelBroker.Agent.Services;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Hosting.Metrics;
using AccelBroker.Protocol.Wire;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Trace;
using TorchSharp;

namespace AccelBroker.Agent;

/// <summary>Hosts an accelerator agent in the current process (the agent executable, tests, <c>accel demo</c>).</summary>
public static class AgentHost
{
    /// <summary>
    /// Builds an agent serving gRPC over HTTP/2 on <see cref="AgentOptions.Listen"/>. The device is resolved
    /// now, so a CUDA request this build or host cannot honour fails here. With port 0, read the bound
    /// address from <c>app.Urls</c> after <c>StartAsync</c>; registration with the broker starts once bound. With
    /// <see cref="AgentOptions.MetricsListen"/>, Prometheus metrics are served over HTTP/1.1 there too (the gRPC
    /// address stays first in <c>app.Urls</c>) and their URL is reported to the broker.
    /// </summary>
    /// <param name="options">The agent's settings.</param>
    /// <param name="configureLogging">Changes the logging setup; console logging by default.</param>
    /// <returns>The application, not yet started; dispose it when done.</returns>
    /// <param name="configureServices">
    /// Registers services before the agent's own, which are added only where none is (a <see cref="TimeProvider"/>
    /// or an <see cref="Slices.IEvictionPolicy"/> from a test, for example).
    /// </param>
    public static WebApplication Build(AgentOptions options, Action<ILoggingBuilder>? configureLogging = null, Action<IServiceCollection>? configureServices = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.HugePageAllocation)
        {
            NativeEnvironment.EnableHugePageAllocation();
        }

        if (options.MetricsListen is not null && MetricsEndpoint.FindProblem(options.MetricsListen, options.Listen) is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        ComputeDevice device = DeviceProbe.Resolve(options.Device);
        int intraOpThreads = options.IntraOpThreads is > 0 ? options.IntraOpThreads.Value : DefaultIntraOpThreads(options.ExecutionSlots, Environment.ProcessorCount);
        if (torch.get_num_threads() != intraOpThreads)
        {
            torch.set_num_threads(intraOpThreads);
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(AgentHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // Only options.Listen may bind endpoints: drop appsettings files that may sit in a shared output folder.
        foreach (IConfigurationSource file in builder.Configuration.Sources.OfType<FileConfigurationSource>().ToList())
        {
            builder.Configuration.Sources.Remove(file);
        }

        builder.WebHost.UseUrls(options.Listen);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
            // Large tensors: HTTP/2's default windows (1 MiB / 768 KiB) would stall a 64 MB transfer on round trips.
            kestrel.Limits.Http2.InitialConnectionWindowSize = 64 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 32 * 1024 * 1024;
            kestrel.Limits.MaxRequestBodySize = null;
        });
        MetricsEndpoint? metrics = options.MetricsListen is null
            ? null
            : MetricsEndpoint.Add(builder, options.Listen, options.MetricsListen, AgentMetrics.MeterName,
                options.AdvertiseAddress is null ? null : new Uri(options.AdvertiseAddress).Host);

        if (options.OtlpEndpoint is { } otlp)
        {
            // OTLP over HTTP/protobuf, the collector's default receiver; spans are batched off the request path.
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing
                .AddSource(AgentTracing.SourceName)
                .AddOtlpExporter(exporter =>
                {
                    exporter.Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
                    exporter.Endpoint = new Uri(otlp.TrimEnd('/') + "/v1/traces");
                }));
        }

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        configureLogging?.Invoke(builder.Logging);

        IServiceCollection services = builder.Services;
        configureServices?.Invoke(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(device);
        services.AddSingleton<AgentIdentity>();
        services.AddSingleton<ServerReady>();
        services.AddSingleton(provider => new ModelStore(options.DataDirectory ?? Path.Combine(Path.GetTempPath(), "accelbroker-agent", "models"), options.ModelStoreBytes)
        {
            InUse = sha256 => provider.GetRequiredService<SliceRegistry>().Holds(sha256),
        });
        services.TryAddSingleton<IEvictionPolicy>(LeastRecentlyUsedEviction.Instance);
        services.AddSingleton<SliceRegistry>();
        services.AddSingleton<SliceWorkers>();
        services.AddSingleton<QuarantinedModels>();
        services.AddSingleton<AgentMetrics>();
        services.AddSingleton(provider =>
        {
            SliceRegistry slices = provider.GetRequiredService<SliceRegistry>();
            return new ComputeScheduler(
                Math.Max(1, options.ExecutionSlots),
                provider.GetRequiredService<TimeProvider>(),
                isGone: sliceId => sliceId != LocalBenchmark.ComputeTenant && !slices.IsAssigned(sliceId));
        });
        services.AddSingleton<InferenceRunner>();
        services.AddSingleton<InferenceMetering>();
        services.AddSingleton<ModelLoader>();
        services.AddSingleton<ModelResidency>();
        services.AddSingleton<RunPath>();
        services.AddSingleton<LocalBenchmark>();
        services.AddHostedService<BrokerRegistration>();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = WireLimits.UnaryPayloadBytes + (1024 * 1024);
            // Outputs of a unary run may be larger than its inputs; the client accepts them.
            grpc.MaxSendMessageSize = null;
            grpc.Interceptors.Add<DomainErrorInterceptor>();
        });

        WebApplication app = builder.Build();
        app.Services.GetRequiredService<AgentMetrics>();
        // Wired here rather than injected, so the slice registry needs nothing from the execution side.
        ComputeScheduler scheduler = app.Services.GetRequiredService<ComputeScheduler>();
        SliceRegistry slices = app.Services.GetRequiredService<SliceRegistry>();
        slices.Released += scheduler.Remove;
        // Each slice executes in a worker process of its own, started as soon as the slice is assigned.
        SliceWorkers workers = app.Services.GetRequiredService<SliceWorkers>();
        slices.Assigned += workers.Prestart;
        slices.Released += workers.Release;
        app.Services.GetRequiredService<ModelResidency>();
        metrics?.Map(app);
        app.MapGrpcService<InferenceAgentService>();
        app.MapGrpcService<AgentControlService>();

        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AgentHost).FullName!);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            AgentIdentity identity = app.Services.GetRequiredService<AgentIdentity>();
            ICollection<string> addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            identity.Address = options.AdvertiseAddress ?? Advertised(addresses.FirstOrDefault() ?? options.Listen);
            AgentLog.AgentStarted(logger, identity.Address, device.Label, device.Name, identity.Capacity.MemoryBytes / (1024 * 1024), identity.Capacity.Compute);
            AgentLog.ExecutionSlots(logger, Math.Max(1, options.ExecutionSlots), intraOpThreads);
            if (metrics is not null)
            {
                identity.MetricsAddress = metrics.ScrapeUrl();
                AgentLog.MetricsListening(logger, identity.MetricsAddress);
            }

            app.Services.GetRequiredService<ServerReady>().Signal();
        });

        return app;
    }

    // A wildcard bind is not an address a client can dial; loopback is the one that works on this machine.
    private static string Advertised(string bound)
    {
        var uri = new UriBuilder(bound);
        if (uri.Host is "0.0.0.0" or "[::]" or "::" or "+" or "*")
        {
            uri.Host = System.Net.Dns.GetHostName();
        }

        return uri.Uri.ToString().TrimEnd('/');
    }

    /// <summary>
    /// libtorch's intra-op pool is process-wide and each forward pass uses all of it: divided among the slots, the
    /// passes that run at once do not oversubscribe the cores.
    /// </summary>
    internal static int DefaultIntraOpThreads(int slots, int cores) => Math.Max(1, cores / Math.Max(1, slots));
}
