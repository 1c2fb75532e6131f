using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace AccelBroker.Hosting.Metrics;

/// <summary>
/// The Prometheus scrape endpoint: <c>/metrics</c> on a Kestrel endpoint of its own speaking HTTP/1.1, because
/// the gRPC endpoint speaks HTTP/2 only (h2c for http), which Prometheus cannot scrape. It exports every
/// instrument of this host's meter, and only this host's: meters of other hosts in the same process (tests,
/// <c>accel demo</c>) carry the same name. It also exports the runtime's process-wide <c>System.Runtime</c> meter.
/// </summary>
public sealed class MetricsEndpoint
{
    /// <summary>The scrape path.</summary>
    public const string Path = "/metrics";

    /// <summary>The runtime's built-in meter (.NET 9 and later), exported beside the host's own.</summary>
    public const string RuntimeMeter = "System.Runtime";

    private static readonly double[] s_secondsBounds =
        [0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Uri _requested;
    private readonly string? _advertisedHost;
    private ListenOptions? _listen;

    private MetricsEndpoint(Uri requested, string? advertisedHost)
    {
        _requested = requested;
        _advertisedHost = advertisedHost;
    }

    /// <summary>Why <paramref name="url"/> cannot be the metrics address, or <see langword="null"/> when it can.</summary>
    public static string? FindProblem(string url, string listen)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            return $"metrics address '{url}' is not an absolute http or https URL without a path (for example http://127.0.0.1:9464); /metrics is served there";
        }

        if (uri.Port == 0 && uri.IsLoopback && !System.Net.IPAddress.TryParse(uri.IdnHost, out _))
        {
            // Kestrel binds a name such as localhost to several addresses, which cannot share a free port.
            return $"metrics address '{url}' asks for a free port on a host name; use an IP address such as http://127.0.0.1:0";
        }

        if (uri.Port != 0 && Uri.TryCreate(listen, UriKind.Absolute, out Uri? grpc) && grpc.Port == uri.Port
            && string.Equals(grpc.Host, uri.Host, StringComparison.OrdinalIgnoreCase))
        {
            return $"metrics address '{url}' must differ from the listen address '{listen}': gRPC is HTTP/2 only, metrics HTTP/1.1";
        }

        return null;
    }

    /// <summary>
    /// Binds the gRPC endpoint (<paramref name="listen"/>, HTTP/2) and the metrics endpoint (HTTP/1.1) through
    /// Kestrel's endpoint configuration, which parses the URLs as <c>UseUrls</c> does but allows protocols per
    /// endpoint, and exports <paramref name="meterName"/> of this host. <paramref name="advertisedHost"/> replaces
    /// the bound host in the scrape URL.
    /// </summary>
    public static MetricsEndpoint Add(WebApplicationBuilder builder, string listen, string metricsListen, string meterName, string? advertisedHost = null)
    {
        var endpoint = new MetricsEndpoint(new Uri(metricsListen), advertisedHost);

        // Endpoints from configuration replace the urls setting; clearing it avoids Kestrel's "overriding" warning.
        // "Grpc" sorts before "Metrics", so the gRPC address stays first in app.Urls (the hosts and LoopbackFleet rely on it).
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, "");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Grpc:Url"] = listen,
            ["Kestrel:Endpoints:Grpc:Protocols"] = nameof(HttpProtocols.Http2),
            ["Kestrel:Endpoints:Metrics:Url"] = metricsListen,
            ["Kestrel:Endpoints:Metrics:Protocols"] = nameof(HttpProtocols.Http1),
        });
        builder.WebHost.ConfigureKestrel((context, kestrel) => kestrel
            .Configure(context.Configuration.GetSection("Kestrel"))
            .Endpoint("Metrics", metrics => endpoint._listen = metrics.ListenOptions));

        // No response cache: a scrape right after a change (an attach, a detach) shows it.
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(meterName))
            .WithMetrics(metrics => metrics
                .AddView(instrument => SecondsBuckets(instrument, meterName))
                .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));

        // Local scope: only meters made by this host's IMeterFactory, not same-named ones of other hosts.
        builder.Metrics.EnableMetrics(meterName, instrumentName: null, listenerName: "OpenTelemetry", scopes: MeterScope.Local);
        // .NET's own process metrics (GC heap per generation, working set, thread pool, exceptions): what an operator
        // reads to tell a managed leak from native memory or a heap that has simply grown to its working size.
        builder.Metrics.EnableMetrics(RuntimeMeter, instrumentName: null, listenerName: "OpenTelemetry", scopes: MeterScope.Global);
        builder.Services.AddSingleton(endpoint);
        return endpoint;
    }

    /// <summary>
    /// Buckets for a histogram of this host's meter in seconds that brings no bucket advice of its own:
    /// OpenTelemetry's default bounds (0, 5, 10, 25, … 10000) suit milliseconds and would put every latency
    /// in the first bucket. From 0.5 ms, fine where inferences take a few milliseconds.
    /// </summary>
    private static ExplicitBucketHistogramConfiguration? SecondsBuckets(Instrument instrument, string meterName) =>
        instrument is Histogram<double> { Unit: "s" } histogram && histogram.Meter.Name == meterName
            && histogram.Advice?.HistogramBucketBoundaries is null
            ? new ExplicitBucketHistogramConfiguration { Boundaries = s_secondsBounds }
            : null;

    /// <summary>
    /// Serves <c>/metrics</c> on the metrics endpoint and nothing else there. Each endpoint allows one protocol, so
    /// HTTP/1.x requests came in on the metrics endpoint and HTTP/2 ones on the gRPC endpoint: gRPC never sees the
    /// former, and <c>/metrics</c> is not mapped for the latter.
    /// </summary>
    public void Map(WebApplication app)
    {
        app.UseWhen(context => !HttpProtocol.IsHttp2(context.Request.Protocol), metrics =>
        {
            metrics.UseOpenTelemetryPrometheusScrapingEndpoint(
                meterProvider: null,
                predicate: context => context.Request.Path == Path,
                path: null,
                configureBranchedPipeline: null,
                optionsName: null);
            metrics.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        });
    }

    /// <summary>
    /// The scrape URL (http://host:port/metrics) once the host listens: the bound port for port 0, and the
    /// advertised host (or, for a wildcard bind, this machine's name) as host.
    /// </summary>
    public string ScrapeUrl()
    {
        var uri = new UriBuilder(_requested) { Path = Path };
        if (_listen?.IPEndPoint is { Port: > 0 } bound)
        {
            uri.Port = bound.Port;
        }

        if (_advertisedHost is not null)
        {
            uri.Host = _advertisedHost;
        }
        else if (uri.Host is "0.0.0.0" or "[::]" or "::" or "+" or "*")
        {
            uri.Host = System.Net.Dns.GetHostName();
        }

        return uri.Uri.ToString();
    }
}
