using AccelBroker.Hosting.Metrics;
using AccelBroker.Hosting.Tracing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Hosting.Startup;

/// <summary>
/// The one HTTP/2 start-up of both hosts: Kestrel on the listen URL speaking HTTP/2 only (h2c for http; TLS from PEM files, reloaded when they change, for https,
/// with client certificates checked against a CA bundle for mutual TLS), the optional metrics endpoint, the optional OTLP trace export, and the logging filters both hosts use.
/// </summary>
public sealed class GrpcHostBuilder
{
    private GrpcHostBuilder(WebApplicationBuilder builder, MetricsEndpoint? metrics)
    {
        Builder = builder;
        Metrics = metrics;
    }

    /// <summary>The application builder: register the host's services on its <c>Services</c>.</summary>
    public WebApplicationBuilder Builder { get; }

    /// <summary>The metrics endpoint, or <see langword="null"/> when none is served.</summary>
    public MetricsEndpoint? Metrics { get; }

    /// <summary>
    /// Creates the builder. The listen URLs are not checked here; each host checks its own options first, with
    /// its own messages.
    /// </summary>
    public static GrpcHostBuilder Create(GrpcHostSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = settings.ApplicationName,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // Only the options may bind endpoints: an appsettings.json in the content root (another service's, or one
        // in a shared test output folder) could bind Kestrel endpoints instead. Environment variables
        // (Logging__LogLevel__Default=Debug, say) still apply; the hosts' own settings are read before this.
        foreach (IConfigurationSource file in builder.Configuration.Sources.OfType<FileConfigurationSource>().ToList())
        {
            builder.Configuration.Sources.Remove(file);
        }

        ReloadingCertificate? certificate = settings.TlsCertificateFile is { } certificateFile && settings.TlsKeyFile is { } keyFile
            ? new ReloadingCertificate(certificateFile, keyFile, TimeProvider.System)
            : null;
        ClientCertificateValidator? clients = settings.ClientCaFile is { } clientCaFile
            ? new ClientCertificateValidator(clientCaFile, TimeProvider.System)
            : null;
        builder.WebHost.UseUrls(settings.Listen);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // HTTP/2 only: over https ALPN offers h2 alone, so a client that cannot speak it fails the handshake plainly.
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
            if (certificate is not null)
            {
                kestrel.ConfigureHttpsDefaults(https =>
                {
                    https.ServerCertificateSelector = (_, _) => certificate.Current;
                    if (clients is not null)
                    {
                        // Allow, not require: client hosts without certificates still reach inference and the operator RPCs.
                        https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                        var log = new Lazy<ILogger>(() => kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(ClientCertificateLog.Category));
                        https.ClientCertificateValidation = (presented, _, _) =>
                        {
                            if (clients.IsTrusted(presented, out string why))
                            {
                                return true;
                            }

                            ClientCertificateLog.Refused(log.Value, presented.Subject, presented.Issuer, why);
                            return false;
                        };
                    }
                });
            }

            settings.Limits?.Invoke(kestrel.Limits);
        });
        MetricsEndpoint? metrics = settings.MetricsListen is null
            ? null
            : MetricsEndpoint.Add(builder, settings.Listen, settings.MetricsListen, settings.MeterName, settings.MetricsAdvertisedHost);
        TraceExport.Add(builder.Services, settings.TraceSourceName, settings.OtlpEndpoint);

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        return new GrpcHostBuilder(builder, metrics);
    }

    /// <summary>Builds the application and serves <c>/metrics</c> when asked to; map the host's services after.</summary>
    public WebApplication Build()
    {
        WebApplication app = Builder.Build();
        Metrics?.Map(app);
        return app;
    }
}
