using System.Globalization;
using AccelBroker.Hosting.CommandLine;
using Microsoft.Extensions.Configuration;

namespace AccelBroker.Broker;

/// <summary>
/// The broker's settings: every <see cref="BrokerOptions"/> property, from <c>appsettings.json</c> (section
/// <c>Broker</c>), <c>ACCELBROKER_BROKER__&lt;KEY&gt;</c> or its flag, in the flag's units and with its messages.
/// </summary>
internal static class BrokerSettings
{
    /// <summary>The executable serves metrics unless told not to (Prometheus exporters' customary port).</summary>
    public const string DefaultMetricsListen = "http://127.0.0.1:9464";

    public static readonly HostSettings<BrokerOptions> All = new("Broker",
    [
        new("Listen", "--listen", "URL", "Address to listen on (default http://127.0.0.1:5050; port 0 picks a free one).", "http://0.0.0.0:6000",
            (o, v) => o with { Listen = HostSettingValues.IsHttpUrl(v) ? v : throw new FormatException($"--listen '{v}' is not an absolute http or https URL (for example {BrokerOptions.DefaultListen})") }),
        new("MetricsListen", "--metrics-listen", "URL|off",
            "Serve Prometheus metrics at URL/metrics over HTTP/1.1 (default http://127.0.0.1:9464; port 0 picks a free one); off serves none.", "http://0.0.0.0:9100",
            (o, v) => o with { MetricsListen = HostSettingValues.MetricsListen("--metrics-listen", v, trimSlash: false) }),
        new("Catalog", "--catalog", "FILE", "Slice-type catalogue (JSON); default: eia2.medium, eia2.large, eia2.xlarge.", "cat.json",
            (o, v) => o with { CatalogPath = v }),
        new("Prices", "--prices", "FILE", "Instance and slice prices (JSON) that extend or replace the built-in ones.", "prices.json",
            (o, v) => o with { PricesPath = v }),
        new("AddressFile", "--address-file", "FILE", "Write the bound gRPC address to FILE once listening (for port 0 under a supervisor or a test).", "/run/accel/broker.address",
            (o, v) => o with { AddressFile = v }),
        new("DataDir", "--data-dir", "DIR",
            "Keep attachments, agents, API keys, enrolments, signing keys and usage in DIR/broker.db (SQLite) across restarts; older JSON files there are imported once (default: in memory).", "/var/lib/accel",
            (o, v) => o with { DataDir = v }),
        new("UsageSaveInterval", "--usage-save-interval", "SECONDS", "Save usage at most this often (default 5): what a crash can lose.", "30",
            (o, v) => o with { UsageSaveInterval = Seconds("--usage-save-interval", v) }),
        new("HeartbeatInterval", "--heartbeat-interval", "SECONDS",
            "Heartbeat interval told to agents (default 2); an agent is unhealthy after 3 intervals without a heartbeat.", "0.5",
            (o, v) => o with { HeartbeatInterval = Seconds("--heartbeat-interval", v) }),
        new("FailoverAfter", "--failover-after", "SECONDS|off",
            "Move an agent's slices to other agents once it has been silent this long (default 10; must exceed 3 heartbeat intervals); off never moves them.", "4",
            (o, v) => o with { FailoverAfter = string.Equals(v, "off", StringComparison.OrdinalIgnoreCase) ? Timeout.InfiniteTimeSpan : Seconds("--failover-after", v) }),
        new("OtlpEndpoint", "--otlp-endpoint", "URL", "Export traces over OTLP/HTTP to URL (for example http://127.0.0.1:4318); default: none.", "http://collector:4318",
            (o, v) => o with { OtlpEndpoint = HostSettingValues.IsHttpUrl(v) ? v.TrimEnd('/') : throw new FormatException($"--otlp-endpoint '{v}' is not an absolute http or https URL") }),
        new("TlsCert", "--tls-cert", "FILE", "Serve TLS with this PEM certificate (with --tls-key and an https --listen); reloaded when it changes.", "server.crt",
            (o, v) => o with { TlsCertificateFile = v }),
        new("TlsKey", "--tls-key", "FILE", "PEM private key of --tls-cert.", "server.key",
            (o, v) => o with { TlsKeyFile = v }),
        new("CaFile", "--ca-file", "FILE", "PEM CA that agents' https certificates must chain to (default: the system store).", "ca.crt",
            (o, v) => o with { CaFile = v }),
        new("TlsClientCert", "--tls-client-cert", "FILE", "Present this PEM client certificate to agents (with --tls-client-key; accel certs issue --client makes it); reloaded when it changes.", "broker-client.crt",
            (o, v) => o with { TlsClientCertificateFile = v }),
        new("TlsClientKey", "--tls-client-key", "FILE", "PEM private key of --tls-client-cert.", "broker-client.key",
            (o, v) => o with { TlsClientKeyFile = v }),
        new("ClientCaFile", "--client-ca-file", "FILE",
            "Mutual TLS: agents must register and heartbeat with a client certificate that chains to this PEM CA (https only).", "ca.crt",
            (o, v) => o with { ClientCaFile = v }),
        new("AdminKeyFile", "--admin-key-file", "FILE|-",
            "When no admin API key exists, create one and write it to FILE (mode 0600), or print it once for -.", "/etc/accel/admin.key",
            (o, v) => o with { AdminKeyFile = v }),
        new("Insecure", "--insecure", null, "Allow a non-loopback --listen without TLS (keys then travel in the clear); warns at every start.", "true",
            (o, v) => o with { Insecure = HostSettingValues.Switch("--insecure", v) }),
        new("RequireAgentEnrollment", "--require-agent-enrollment", null,
            "Only enrolled agents ('accel agents enroll') may register and heartbeat (default: on unless --listen is loopback only; RequireAgentEnrollment=false in configuration turns it off, with a warning at every start).", "true",
            (o, v) => o with { RequireAgentEnrollment = HostSettingValues.Switch("--require-agent-enrollment", v) }),

        // Configuration only: limits an operator rarely changes, kept off the command line.
        new("MissedHeartbeats", null, null, "Heartbeats an agent may miss before it is unhealthy (default 3).", "5",
            (o, v) => o with
            {
                MissedHeartbeats = int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
                    ? n
                    : throw new FormatException($"MissedHeartbeats '{v}' is not a positive whole number"),
            }),
        new("AgentCallTimeout", null, null, "Deadline in seconds of each call from the broker to an agent (default 5).", "10",
            (o, v) => o with { AgentCallTimeout = Seconds("AgentCallTimeout", v) }),
        new("ModelHandoverTimeout", null, null, "Deadline in seconds of copying one model to a draining slice's new agent, and of loading it there (default 120).", "300",
            (o, v) => o with { ModelHandoverTimeout = Seconds("ModelHandoverTimeout", v) }),
        new("SliceTokenLifetime", null, null, "Lifetime in seconds of a slice token given to client hosts (default 600).", "300",
            (o, v) => o with { SliceTokenLifetime = Seconds("SliceTokenLifetime", v) }),
        new("SigningKeyRotation", null, null, "Seconds between token signing key rotations (default 86400).", "3600",
            (o, v) => o with { SigningKeyRotation = Seconds("SigningKeyRotation", v) }),
        new("SigningKeyOverlap", null, null,
            "Seconds a retired signing key is still trusted by agents (default 2 x SliceTokenLifetime).", "1800",
            (o, v) => o with { SigningKeyOverlap = Seconds("SigningKeyOverlap", v) }),
    ]);

    /// <summary>The options <paramref name="configuration"/> sets; throws <see cref="FormatException"/> for a bad value.</summary>
    public static BrokerOptions Bind(IConfiguration configuration) =>
        All.Bind(configuration, new BrokerOptions { MetricsListen = DefaultMetricsListen });

    // A positive number of seconds, small enough that multiples of it still fit a TimeSpan.
    private static TimeSpan Seconds(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
        && seconds > 0 && seconds <= TimeSpan.MaxValue.TotalSeconds / 1000
            ? TimeSpan.FromSeconds(seconds)
            : throw new FormatException($"{name} '{value}' is not a positive number of seconds");
}
