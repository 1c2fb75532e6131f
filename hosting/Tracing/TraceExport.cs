using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;

namespace AccelBroker.Hosting.Tracing;

/// <summary>Optional export of a host's spans over OTLP/HTTP; without an endpoint nothing is recorded or sent.</summary>
public static class TraceExport
{
    /// <summary>The path an OTLP/HTTP collector takes traces on.</summary>
    public const string TracesPath = "/v1/traces";

    /// <summary>
    /// Exports <paramref name="sourceName"/>'s spans to <paramref name="otlpEndpoint"/> (OTLP over HTTP/protobuf, the
    /// collector's default receiver), batched off the request path; does nothing when it is <see langword="null"/>.
    /// </summary>
    public static void Add(IServiceCollection services, string sourceName, string? otlpEndpoint)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (otlpEndpoint is null)
        {
            return;
        }

        services.AddOpenTelemetry().WithTracing(tracing => tracing
            .AddSource(sourceName)
            .AddOtlpExporter(exporter =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = new Uri(otlpEndpoint.TrimEnd('/') + TracesPath);
            }));
    }
}
