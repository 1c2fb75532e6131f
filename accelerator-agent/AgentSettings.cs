using System.Globalization;
using AccelBroker.Hosting.CommandLine;
using Microsoft.Extensions.Configuration;

namespace AccelBroker.Agent;

/// <summary>
/// The agent's settings: every <see cref="AgentOptions"/> property, from <c>appsettings.json</c> (section
/// <c>Agent</c>), <c>ACCELBROKER_AGENT__&lt;KEY&gt;</c> or its flag, in the flag's units and with its messages.
/// </summary>
internal static class AgentSettings
{
    private const long Mib = 1024 * 1024;

    public static readonly HostSettings<AgentOptions> All = new("Agent",
    [
        new("Broker", "--broker", "URL", "Broker to register with (omit to run standalone).", "http://broker:5050",
            (o, v) => o with { BrokerAddress = Url("--broker", v) }),
        new("Listen", "--listen", "URL", "Address to listen on (default http://127.0.0.1:7001; port 0 picks a free one).", "http://0.0.0.0:7002",
            (o, v) => o with { Listen = Url("--listen", v) }),
        new("Device", "--device", "cpu|cuda:N", "cpu (default) or cuda:N; CUDA needs the -p:TorchBackend=cuda build and a GPU.", "cuda:1",
            (o, v) => o with { Device = v }),
        new("InstanceType", "--instance-type", "NAME", "Instance type of this machine, for cost reports (e.g. g4dn.xlarge).", "g4dn.xlarge",
            (o, v) => o with { InstanceType = v }),
        new("Advertise", "--advertise", "URL", "Address clients should use (default: the bound listen address).", "http://gpu-1:7001",
            (o, v) => o with { AdvertiseAddress = Url("--advertise", v) }),
        new("MemoryMib", "--memory-mib", "N", "Accelerator memory offered to slices (default: half the RAM on cpu, 90% on cuda).", "1024",
            (o, v) => o with { MemoryBytes = Positive("--memory-mib", v) * Mib }),
        new("Compute", "--compute", "F", "Share of the device offered to slices, 0 < F <= 1 (default 1).", "0.5",
            (o, v) => o with { Compute = Share("--compute", v) }),
        new("AddressFile", "--address-file", "FILE", "Write the bound gRPC address to FILE once listening (for port 0 under a supervisor or a test).", "/run/accel/agent.address",
            (o, v) => o with { AddressFile = v }),
        new("DataDir", "--data-dir", "DIR", "Where uploaded models are kept (default: a folder under the temp path).", "/var/lib/accelbroker-agent",
            (o, v) => o with { DataDirectory = v }),
        new("AgentId", "--agent-id", "ID", "Identity to register under (default: assigned by the broker).", "agent-x",
            (o, v) => o with { AgentId = v }),
        new("EnrollmentTokenFile", "--enrollment-token-file", "FILE", "Enrolment token (from 'accel agents enroll') used once when --credential-file does not exist yet.", "/etc/accelbroker/enrollment-token",
            (o, v) => o with { EnrollmentTokenFile = v }),
        new("CredentialFile", "--credential-file", "FILE", "This agent's credential: read when it exists, written (mode 0600) after enrolling otherwise.", "/var/lib/accelbroker-agent/credential",
            (o, v) => o with { CredentialFile = v }),
        new("ModelStoreMib", "--model-store-mib", "N", "Disk for uploaded models; least recently used ones go past it (default 20480).", "2048",
            (o, v) => o with { ModelStoreBytes = Positive("--model-store-mib", v) * Mib }),
        new("EvictionThreshold", "--eviction-threshold", "F",
            "A load taking a slice past F of its memory first unloads the least recently used idle models, which reload on their next run (0 < F <= 1, default 0.9).", "0.8",
            (o, v) => o with { EvictionThreshold = Share("--eviction-threshold", v) }),
        new("Slots", "--slots", "N", "Forward passes run at once (default 1).", "2",
            (o, v) => o with { ExecutionSlots = (int)Positive("--slots", v) }),
        new("MaxQueuePerSlice", "--max-queue-per-slice", "N",
            "Runs of one slice waiting to execute; one more is refused at once with ResourceExhausted (default 128).", "32",
            (o, v) => o with { MaxQueuePerSlice = (int)Positive("--max-queue-per-slice", v) }),
        new("Threads", "--threads", "N", "libtorch intra-op threads (default: cores / slots, so passes at once do not oversubscribe the cores).", "4",
            (o, v) => o with { IntraOpThreads = (int)Positive("--threads", v) }),
        new("Insecure", "--insecure", null, "Allow a non-loopback --listen without TLS (models and tensors then travel in the clear); warns at every start.", "true",
            (o, v) => o with { Insecure = HostSettingValues.Switch("--insecure", v) }),
        new("HugePages", "--huge-pages", "true|false", "Back large CPU tensors in slice workers with transparent huge pages (default true).", "false",
            (o, v) => o with { HugePageAllocation = HostSettingValues.Switch("--huge-pages", v) }),
        new("MetricsListen", "--metrics-listen", "URL|off",
            "Serve Prometheus metrics at URL/metrics over HTTP/1.1 and report it to the broker (default: a free port on the --listen host); off serves none.", "http://10.0.0.5:9464",
            (o, v) => o with { MetricsListen = HostSettingValues.MetricsListen("--metrics-listen", v, trimSlash: true) }),
        new("OtlpEndpoint", "--otlp-endpoint", "URL", "Export traces over OTLP/HTTP to URL (for example http://127.0.0.1:4318); default: none.", "http://collector:4318",
            (o, v) => o with { OtlpEndpoint = Url("--otlp-endpoint", v) }),
        new("TlsCert", "--tls-cert", "FILE", "Serve TLS with this PEM certificate (with --tls-key and an https --listen); reloaded when it changes.", "server.crt",
            (o, v) => o with { TlsCertificateFile = v }),
        new("TlsKey", "--tls-key", "FILE", "PEM private key of --tls-cert.", "server.key",
            (o, v) => o with { TlsKeyFile = v }),
        new("CaFile", "--ca-file", "FILE", "PEM CA that the broker's https certificates must chain to (default: the system store).", "ca.crt",
            (o, v) => o with { CaFile = v }),
        new("TlsClientCert", "--tls-client-cert", "FILE", "Present this PEM client certificate to the broker (with --tls-client-key; accel certs issue --client makes it); reloaded when it changes.", "agent-client.crt",
            (o, v) => o with { TlsClientCertificateFile = v }),
        new("TlsClientKey", "--tls-client-key", "FILE", "PEM private key of --tls-client-cert.", "agent-client.key",
            (o, v) => o with { TlsClientKeyFile = v }),
        new("ClientCaFile", "--client-ca-file", "FILE",
            "Mutual TLS: AgentControl calls (the broker's) need a client certificate that chains to this PEM CA (https only).", "ca.crt",
            (o, v) => o with { ClientCaFile = v }),

        // Configuration only: limits an operator rarely changes, kept off the command line.
        new("MaxRunTimeSeconds", null, null, "The longest a forward pass may run (default 600).", "60",
            (o, v) => o with { MaxRunTime = TimeSpan.FromSeconds(PositiveSeconds("MaxRunTimeSeconds", v)) }),
        new("MaxLoadTimeSeconds", null, null, "The longest a load and its warm-up may take (default 600).", "60",
            (o, v) => o with { MaxLoadTime = TimeSpan.FromSeconds(PositiveSeconds("MaxLoadTimeSeconds", v)) }),
        new("ReplyWatchMicroseconds", null, null, "How long a run's answer is watched for in shared memory (default 250; 0 turns it off).", "0",
            (o, v) => o with { ReplyWatch = TimeSpan.FromMicroseconds(NonNegative("ReplyWatchMicroseconds", v)) }),
        new("MaxModelMib", null, null, "Largest model accepted for upload (default 4096).", "512",
            (o, v) => o with { MaxModelBytes = Positive("MaxModelMib", v) * Mib }),
        new("MaxUploads", null, null, "Uploads received at once; more are refused (default 8).", "4",
            (o, v) => o with { MaxConcurrentUploads = (int)Positive("MaxUploads", v) }),
        new("MaxUploadMibInFlight", null, null, "Declared size of all uploads in progress together; more are refused (default 8192).", "4096",
            (o, v) => o with { MaxUploadBytesInFlight = Positive("MaxUploadMibInFlight", v) * Mib }),
        new("UploadIdleTimeoutSeconds", null, null, "How long an upload may send nothing before it is ended (default 30).", "10",
            (o, v) => o with { UploadIdleTimeout = TimeSpan.FromSeconds(PositiveSeconds("UploadIdleTimeoutSeconds", v)) }),
        new("MaxRequestMib", null, null, "Largest total input of one run (default 2048).", "512",
            (o, v) => o with { MaxRequestBytes = Positive("MaxRequestMib", v) * Mib }),
        new("StreamIdleTimeoutSeconds", null, null, "How long a streaming run waits for its client's next message (default 30).", "10",
            (o, v) => o with { StreamIdleTimeout = TimeSpan.FromSeconds(PositiveSeconds("StreamIdleTimeoutSeconds", v)) }),
        new("DeviceCheckSeconds", null, null, "How often a tiny tensor op checks the device for readiness (default 30).", "10",
            (o, v) => o with { DeviceCheckInterval = TimeSpan.FromSeconds(PositiveSeconds("DeviceCheckSeconds", v)) }),
    ]);

    /// <summary>The options <paramref name="configuration"/> sets; throws <see cref="FormatException"/> for a bad value.</summary>
    public static AgentOptions Bind(IConfiguration configuration)
    {
        AgentOptions options = All.Bind(configuration, new AgentOptions());

        // The executable serves metrics by default, on a free port of the host it listens on.
        return All.IsSet(configuration, "MetricsListen") ? options : options with { MetricsListen = DefaultMetricsListen(options.Listen) };
    }

    private static string DefaultMetricsListen(string listen)
    {
        var uri = new UriBuilder(listen) { Scheme = Uri.UriSchemeHttp, Port = 0, Path = "" };
        if (uri.Host == "localhost")
        {
            // Kestrel cannot pick one free port for both of localhost's addresses.
            uri.Host = "127.0.0.1";
        }

        return uri.Uri.ToString().TrimEnd('/');
    }

    private static string Url(string name, string value) =>
        HostSettingValues.IsHttpUrl(value) ? value.TrimEnd('/') : throw new FormatException($"{name} '{value}' is not an absolute http or https URL");

    private static long Positive(string name, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 && n < int.MaxValue
            ? n
            : throw new FormatException($"{name} needs a positive whole number, got '{value}'");

    private static long NonNegative(string name, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n < int.MaxValue
            ? n
            : throw new FormatException($"{name} needs a whole number, 0 or more, got '{value}'");

    private static double PositiveSeconds(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 && s <= TimeSpan.MaxValue.TotalSeconds / 1000
            ? s
            : throw new FormatException($"{name} needs a positive number of seconds, got '{value}'");

    private static double Share(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && f > 0 && f <= 1
            ? f
            : throw new FormatException($"{name} needs a number in (0, 1], got '{value}'");
}
