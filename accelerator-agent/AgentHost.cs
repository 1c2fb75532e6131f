using AccelBroker.Agent.Devices;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Registration;
using AccelBroker.Hosting.Metrics;
using AccelBroker.Hosting.Startup;
using AccelBroker.Hosting.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        if (TlsSettings.FindProblem(options.Listen, options.TlsCertificateFile, options.TlsKeyFile) is { } tls)
        {
            throw new ArgumentException(tls, nameof(options));
        }

        if (TlsSettings.FindClientProblem(options.Listen, options.TlsClientCertificateFile, options.TlsClientKeyFile, options.ClientCaFile) is { } mutual)
        {
            throw new ArgumentException(mutual, nameof(options));
        }

        if (ExposureCheck.FindProblem(options.Listen, options.Insecure) is { } exposed)
        {
            throw new ArgumentException(exposed, nameof(options));
        }

        if (options.MetricsListen is not null && MetricsEndpoint.FindProblem(options.MetricsListen, options.Listen) is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        if (options.MaxQueuePerSlice < 1)
        {
            throw new ArgumentException($"--max-queue-per-slice needs a positive whole number, got {options.MaxQueuePerSlice}", nameof(options));
        }

        ComputeDevice device = DeviceProbe.Resolve(options.Device);
        int intraOpThreads = options.IntraOpThreads is > 0 ? options.IntraOpThreads.Value : DefaultIntraOpThreads(options.ExecutionSlots, Environment.ProcessorCount);
        if (torch.get_num_threads() != intraOpThreads)
        {
            torch.set_num_threads(intraOpThreads);
        }

        GrpcHostBuilder host;
        ClientCertificate clientCertificate;
        try
        {
            host = GrpcHostBuilder.Create(HostSettings(options));
            clientCertificate = ClientCertificate.FromFiles(options.TlsClientCertificateFile, options.TlsClientKeyFile, TimeProvider.System);
        }
        catch (InvalidDataException ex)
        {
            // Unreadable TLS files are bad options like any other.
            throw new ArgumentException(ex.Message, nameof(options), ex);
        }

        configureLogging?.Invoke(host.Builder.Logging);

        IServiceCollection services = host.Builder.Services;
        configureServices?.Invoke(services);
        services.AddSingleton(device);
        // The data path's transport: large receive blocks (after Kestrel's own registration, so this one is used).
        services.AddSingleton(new TransportPoolOptions());
        services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        services.TryAddSingleton(clientCertificate);
        services.AddAcceleratorAgent(options);

        WebApplication app = host.Build();
        app.Services.GetRequiredService<AgentWiring>();
        app.MapAcceleratorAgent();
        MetricsEndpoint? metrics = host.Metrics;

        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AgentHost).FullName!);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            AgentIdentity identity = app.Services.GetRequiredService<AgentIdentity>();
            ICollection<string> addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            identity.Address = options.AdvertiseAddress ?? Advertised(addresses.FirstOrDefault() ?? options.Listen);
            AgentLog.AgentStarted(logger, identity.Address, device.Label, device.Name, identity.Capacity.MemoryBytes / (1024 * 1024), identity.Capacity.Compute);
            AgentLog.ExecutionSlots(logger, Math.Max(1, options.ExecutionSlots), intraOpThreads);
            if (ExposureCheck.IsExposedPlaintext(options.Listen))
            {
                AgentLog.ListeningInsecurely(logger, options.Listen);
            }
            if (metrics is not null)
            {
                identity.MetricsAddress = metrics.ScrapeUrl();
                AgentLog.MetricsListening(logger, identity.MetricsAddress);
            }

            if (options.AddressFile is not null)
            {
                AddressFile.Write(options.AddressFile, addresses.FirstOrDefault() ?? options.Listen);
            }

            app.Services.GetRequiredService<ServerReady>().Signal();
        });

        return app;
    }

    private static GrpcHostSettings HostSettings(AgentOptions options) => new()
    {
        ApplicationName = typeof(AgentHost).Assembly.GetName().Name!,
        Listen = options.Listen,
        MeterName = AgentMetrics.MeterName,
        TraceSourceName = AgentTracing.SourceName,
        MetricsListen = options.MetricsListen,
        MetricsAdvertisedHost = options.AdvertiseAddress is null ? null : new Uri(options.AdvertiseAddress).Host,
        OtlpEndpoint = options.OtlpEndpoint,
        TlsCertificateFile = options.TlsCertificateFile,
        TlsKeyFile = options.TlsKeyFile,
        ClientCaFile = options.ClientCaFile,
        Limits = limits =>
        {
            // Large tensors: HTTP/2's default windows (1 MiB / 768 KiB) would stall a 64 MB transfer on round trips.
            limits.Http2.InitialConnectionWindowSize = 64 * 1024 * 1024;
            limits.Http2.InitialStreamWindowSize = 32 * 1024 * 1024;
            limits.MaxRequestBodySize = null;
        },
    };

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
