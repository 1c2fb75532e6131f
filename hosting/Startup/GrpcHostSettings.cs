using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace AccelBroker.Hosting.Startup;

/// <summary>What a gRPC host (broker or agent) needs from its start-up.</summary>
public sealed record GrpcHostSettings
{
    /// <summary>The host's assembly name (its application name).</summary>
    public required string ApplicationName { get; init; }

    /// <summary>URL the gRPC endpoint listens on (HTTP/2 only, so http means h2c and https needs the TLS files); port 0 picks a free port.</summary>
    public required string Listen { get; init; }

    /// <summary>The host's meter; exported on <see cref="MetricsListen"/>.</summary>
    public required string MeterName { get; init; }

    /// <summary>The host's activity source; exported to <see cref="OtlpEndpoint"/>.</summary>
    public required string TraceSourceName { get; init; }

    /// <summary>URL of the HTTP/1.1 Prometheus endpoint; <see langword="null"/> serves none.</summary>
    public string? MetricsListen { get; init; }

    /// <summary>Host name that replaces the bound one in the scrape URL (an agent's advertised host).</summary>
    public string? MetricsAdvertisedHost { get; init; }

    /// <summary>OTLP/HTTP collector (for example http://collector:4318); <see langword="null"/> sends nothing anywhere.</summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>
    /// PEM certificate served on an https <see cref="Listen"/> URL (with <see cref="TlsKeyFile"/>), reloaded when the
    /// files change; check both with <see cref="TlsSettings.FindProblem"/> first.
    /// </summary>
    public string? TlsCertificateFile { get; init; }

    /// <summary>PEM private key of <see cref="TlsCertificateFile"/>.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>
    /// PEM CA bundle that client certificates must chain to (mutual TLS, https only): Kestrel then asks every client for
    /// a certificate, admits connections without one, and fails the handshake of one that does not chain to it. Which
    /// calls need a certificate is the host's <see cref="ClientCertificateRequirement"/>.
    /// </summary>
    public string? ClientCaFile { get; init; }

    /// <summary>Changes Kestrel's limits (an agent's large HTTP/2 windows, for example).</summary>
    public Action<KestrelServerLimits>? Limits { get; init; }
}
