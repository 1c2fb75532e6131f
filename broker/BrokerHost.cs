using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Catalog;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Pricing;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Storage;
using AccelBroker.Broker.Tokens;
using AccelBroker.Broker.Usage;
using AccelBroker.Hosting.CommandLine;
using AccelBroker.Hosting.Metrics;
using AccelBroker.Hosting.Startup;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AccelBroker.Broker;

/// <summary>Hosts a broker in the current process (the broker executable, tests, <c>accel demo</c>).</summary>
public static class BrokerHost
{
    /// <summary>
    /// Builds a broker serving gRPC over HTTP/2 only (h2c for http) on <see cref="BrokerOptions.Listen"/>.
    /// The catalogue and stored attachments are loaded here, so invalid ones fail now rather than at the first call;
    /// so is the store of a data directory (broker.db, with the one-time import of older JSON files): a damaged one fails here.
/// Stored usage is loaded here too.
    /// Start it with <c>StartAsync</c> or <c>RunAsync</c>; with port 0, read the bound address from
    /// <c>app.Urls</c> (or <see cref="IServerAddressesFeature"/>) after <c>StartAsync</c>. With
    /// <see cref="BrokerOptions.MetricsListen"/>, Prometheus metrics are served over HTTP/1.1 there too; the gRPC
    /// address stays first in <c>app.Urls</c>. With <see cref="BrokerOptions.OtlpEndpoint"/>, its spans are exported there.
    /// </summary>
    /// <param name="options">The broker's settings.</param>
    /// <param name="configureLogging">Changes the logging setup (providers, filters); console logging by default.</param>
    /// <returns>The application, not yet started; dispose it when done.</returns>
    /// <exception cref="BrokerConfigurationException">Invalid options, catalogue file or attachments file.</exception>
    public static WebApplication Build(BrokerOptions options, Action<ILoggingBuilder>? configureLogging = null) =>
        Build(options, configureLogging, configureServices: null);

    /// <summary>As the public overload; <paramref name="configureServices"/> runs before the broker's own registrations, so its services win.</summary>
    internal static WebApplication Build(
        BrokerOptions options,
        Action<ILoggingBuilder>? configureLogging,
        Action<IServiceCollection>? configureServices)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);

        GrpcHostBuilder host;
        ClientCertificate clientCertificate;
        try
        {
            host = Create(options);
            clientCertificate = ClientCertificate.FromFiles(options.TlsClientCertificateFile, options.TlsClientKeyFile, TimeProvider.System);
        }
        catch (InvalidDataException ex)
        {
            throw new BrokerConfigurationException(ex.Message);
        }

        configureLogging?.Invoke(host.Builder.Logging);

        configureServices?.Invoke(host.Builder.Services);
        host.Builder.Services.TryAddSingleton(clientCertificate);
        host.Builder.Services.AddAccelBroker(options);

        WebApplication app = host.Build();
        SliceTypeCatalog catalog;
        AttachmentBook book;
        try
        {
            catalog = app.Services.GetRequiredService<SliceTypeCatalog>();
            // Opens the store and reads every kind now, so a damaged one stops the start rather than the first call.
            book = app.Services.GetRequiredService<AttachmentBook>();
            _ = app.Services.GetRequiredService<AgentRegistry>();
            _ = app.Services.GetRequiredService<ApiKeyBook>();
            _ = app.Services.GetRequiredService<EnrollmentBook>();
            _ = app.Services.GetRequiredService<SigningKeyRing>();
            // Restores usage now, after the attachments it is checked against and before any report arrives.
            _ = app.Services.GetService<UsageSaver>();
            _ = app.Services.GetRequiredService<PriceCatalog>();
            app.Services.GetRequiredService<BrokerMetrics>();
        }
        catch
        {
            ((IDisposable)app).Dispose();
            throw;
        }

        app.MapAccelBroker();
        MetricsEndpoint? metrics = host.Metrics;

        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BrokerHost).FullName!);
        string storage = "in memory";
        if (options.DataDir is not null)
        {
            string path = app.Services.GetRequiredService<IStoreProbe>().Location;
            storage = $"in {path}";
            BrokerLog.AttachmentsLoaded(logger, book.All().Count, path);
        }

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            ICollection<string> addresses = app.Services.GetRequiredService<IServer>()
                .Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            BrokerLog.BrokerStarted(logger, string.Join(", ", addresses), catalog.KnownNames, storage);
            if (options.AddressFile is not null)
            {
                // The gRPC address is first; a metrics address follows it.
                AddressFile.Write(options.AddressFile, addresses.FirstOrDefault() ?? options.Listen);
            }

            if (ExposureCheck.IsExposedPlaintext(options.Listen))
            {
                BrokerLog.ListeningInsecurely(logger, options.Listen);
            }

            if (!options.AgentEnrollmentRequired && !ExposureCheck.IsLoopback(options.Listen))
            {
                BrokerLog.AgentsUnenrolled(logger, options.Listen);
            }
            if (metrics is not null)
            {
                BrokerLog.MetricsListening(logger, metrics.ScrapeUrl());
            }
        });

        return app;
    }

    /// <summary>
    /// Creates an API key in a broker built by <see cref="Build(BrokerOptions, Action{ILoggingBuilder}?)"/>, for in-process
    /// fleets (<c>accel demo</c>, tests, the benchmark) that provision themselves instead of asking an operator.
    /// </summary>
    /// <param name="broker">The broker application.</param>
    /// <param name="name">The key's name, as listings and audit events show it.</param>
    /// <param name="role"><c>viewer</c>, <c>operator</c> or <c>admin</c>.</param>
    /// <returns>The key's secret, which the broker does not keep.</returns>
    public static string CreateApiKey(WebApplication broker, string name, string role = "admin")
    {
        ArgumentNullException.ThrowIfNull(broker);
        AccessRole access = role switch
        {
            "viewer" => AccessRole.Viewer,
            "operator" => AccessRole.Operator,
            "admin" => AccessRole.Admin,
            _ => throw new ArgumentException($"role '{role}' is not viewer, operator or admin", nameof(role)),
        };
        return broker.Services.GetRequiredService<ApiKeyBook>().Create(name, access, createdBy: null).Secret;
    }

    // The TLS files are read here, so unreadable ones are a configuration error like any other.
    private static GrpcHostBuilder Create(BrokerOptions options) => GrpcHostBuilder.Create(new GrpcHostSettings
    {
        ApplicationName = typeof(BrokerHost).Assembly.GetName().Name!,
        Listen = options.Listen,
        MeterName = BrokerMetrics.MeterName,
        TraceSourceName = BrokerTracing.SourceName,
        MetricsListen = options.MetricsListen,
        OtlpEndpoint = options.OtlpEndpoint,
        TlsCertificateFile = options.TlsCertificateFile,
        TlsKeyFile = options.TlsKeyFile,
        ClientCaFile = options.ClientCaFile,
    });

    private static void Validate(BrokerOptions options)
    {
        if (!Uri.TryCreate(options.Listen, UriKind.Absolute, out Uri? listen)
            || (listen.Scheme != Uri.UriSchemeHttp && listen.Scheme != Uri.UriSchemeHttps))
        {
            throw new BrokerConfigurationException($"listen address '{options.Listen}' is not an absolute http or https URL (for example {BrokerOptions.DefaultListen})");
        }

        if (TlsSettings.FindProblem(options.Listen, options.TlsCertificateFile, options.TlsKeyFile) is { } tls)
        {
            throw new BrokerConfigurationException(tls);
        }

        if (TlsSettings.FindClientProblem(options.Listen, options.TlsClientCertificateFile, options.TlsClientKeyFile, options.ClientCaFile) is { } mutual)
        {
            throw new BrokerConfigurationException(mutual);
        }

        if (ExposureCheck.FindProblem(options.Listen, options.Insecure) is { } exposed)
        {
            throw new BrokerConfigurationException(exposed);
        }

        if (options.MetricsListen is not null && MetricsEndpoint.FindProblem(options.MetricsListen, options.Listen) is { } problem)
        {
            throw new BrokerConfigurationException(problem);
        }

        if (options.OtlpEndpoint is not null && !HostSettingValues.IsHttpUrl(options.OtlpEndpoint))
        {
            throw new BrokerConfigurationException($"OTLP endpoint '{options.OtlpEndpoint}' is not an absolute http or https URL");
        }

        if (options.HeartbeatInterval <= TimeSpan.Zero)
        {
            throw new BrokerConfigurationException($"heartbeat interval must be positive (got {options.HeartbeatInterval})");
        }

        if (options.MissedHeartbeats < 1)
        {
            throw new BrokerConfigurationException($"missed heartbeats must be at least 1 (got {options.MissedHeartbeats})");
        }

        if (options.FailoverEnabled && options.EffectiveFailoverAfter <= options.UnhealthyAfter)
        {
            throw new BrokerConfigurationException(
                $"--failover-after ({options.EffectiveFailoverAfter.TotalSeconds} s) must be longer than the time an agent takes to turn unhealthy " +
                $"(heartbeat interval × missed heartbeats = {options.UnhealthyAfter.TotalSeconds} s)");
        }

        if (options.UsageSaveInterval <= TimeSpan.Zero)
        {
            throw new BrokerConfigurationException($"usage save interval must be positive (got {options.UsageSaveInterval})");
        }

        if (options.AgentCallTimeout <= TimeSpan.Zero)
        {
            throw new BrokerConfigurationException($"agent call timeout must be positive (got {options.AgentCallTimeout})");
        }
    }
}
