using AccelBroker.Hosting.Startup;

namespace AccelBroker.Broker;

/// <summary>Settings of one broker process.</summary>
public sealed record BrokerOptions
{
    /// <summary>The default <see cref="Listen"/> address.</summary>
    public const string DefaultListen = "http://127.0.0.1:5050";

    /// <summary>
    /// Absolute http or https URL the broker listens on (HTTP/2 only, so plain http means h2c).
    /// Port 0 picks a free port: read the bound address from <c>app.Urls</c> after <c>StartAsync</c>.
    /// </summary>
    public string Listen { get; init; } = DefaultListen;

    /// <summary>
    /// Absolute http or https URL (no path) of a separate HTTP/1.1 endpoint serving Prometheus metrics at
    /// <c>/metrics</c>; <see langword="null"/> (the default) serves none. Port 0 picks a free port.
    /// </summary>
    public string? MetricsListen { get; init; }

    /// <summary>
    /// OTLP/HTTP endpoint (for example http://collector:4318) the broker's traces are exported to; <see langword="null"/>
    /// (the default) exports none.
    /// </summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>PEM certificate served on an https listen URL, with <see cref="TlsKeyFile"/>; reloaded when the files change.</summary>
    public string? TlsCertificateFile { get; init; }

    /// <summary>PEM private key of <see cref="TlsCertificateFile"/>.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>PEM CA certificates that agents' https certificates must chain to; <see langword="null"/> uses the system store.</summary>
    public string? CaFile { get; init; }

    /// <summary>
    /// PEM client certificate the broker presents on its calls to agents, with <see cref="TlsClientKeyFile"/>, for agents
    /// that require mutual TLS; reloaded when the files change.
    /// </summary>
    public string? TlsClientCertificateFile { get; init; }

    /// <summary>PEM private key of <see cref="TlsClientCertificateFile"/>.</summary>
    public string? TlsClientKeyFile { get; init; }

    /// <summary>
    /// PEM CA bundle that agents' client certificates must chain to (https only): RegisterAgent, Heartbeat and
    /// EnrollAgent then need a connection with such a certificate; other callers need none.
    /// </summary>
    public string? ClientCaFile { get; init; }

    /// <summary>
    /// When no live admin API key exists at start-up, create one and write it to this file (mode 0600), or print it once to
    /// standard output for <c>-</c>; <see langword="null"/> creates none.
    /// </summary>
    public string? AdminKeyFile { get; init; }

    /// <summary>
    /// Allow listening on a non-loopback address without TLS. Without it such a broker refuses to start; with it, it
    /// warns at every start. API keys are checked either way, but travel in the clear.
    /// </summary>
    public bool Insecure { get; init; }

    /// <summary>Slice-type catalogue file (JSON); <see langword="null"/> uses the built-in eia2 catalogue.</summary>
    public string? CatalogPath { get; init; }

    /// <summary>
    /// Prices file (JSON) applied on top of the built-in prices and the catalogue's slice prices;
    /// <see langword="null"/> for none.
    /// </summary>
    public string? PricesPath { get; init; }

    /// <summary>
    /// Directory where attachments and usage since attach are kept across restarts (created when missing);
    /// <see langword="null"/> keeps them in memory only.
    /// </summary>
    public string? DataDir { get; init; }

    /// <summary>File the bound gRPC address is written to once the broker listens; <see langword="null"/> writes none.</summary>
    public string? AddressFile { get; init; }

    /// <summary>
    /// With <see cref="DataDir"/>: usage is saved at most this often while it changes, and on shutdown; a crash
    /// loses at most this much of it.
    /// </summary>
    public TimeSpan UsageSaveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When true, RegisterAgent and Heartbeat need an enrolled agent's credential (<c>authorization: Bearer aba_...</c>)
    /// and an agent registers only under the id it was enrolled with. <see langword="null"/> (the default): required
    /// whenever <see cref="Listen"/> reaches beyond loopback, so no machine can join a real fleet unasked; a broker on
    /// loopback alone (tests, <c>accel demo</c>) takes its local agents as they come. False turns it off explicitly.
    /// </summary>
    public bool? RequireAgentEnrollment { get; init; }

    /// <summary>Whether agents must be enrolled: <see cref="RequireAgentEnrollment"/>, or by default whether <see cref="Listen"/> reaches beyond loopback.</summary>
    public bool AgentEnrollmentRequired => RequireAgentEnrollment ?? !ExposureCheck.IsLoopback(Listen);

    /// <summary>How often agents are told to send a heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// An agent is unhealthy once <see cref="HeartbeatInterval"/> × this much time has passed
    /// without a heartbeat or registration.
    /// </summary>
    public int MissedHeartbeats { get; init; } = 3;

    /// <summary>Deadline of each call from the broker to an agent (assigning or releasing a slice).</summary>
    public TimeSpan AgentCallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Deadline of copying one model to a slice's new agent during a drain, and of loading (and warming) it there
    /// (default 2 minutes).
    /// </summary>
    public TimeSpan ModelHandoverTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Lifetime of a slice token the broker hands a client host with a resolved accelerator (default 10 minutes).</summary>
    public TimeSpan SliceTokenLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the broker starts signing tokens with a new key (default 24 hours).</summary>
    public TimeSpan SigningKeyRotation { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a retired signing key's public half is still published to agents, so tokens it signed keep verifying;
    /// <see langword="null"/> (the default) means 2 × <see cref="SliceTokenLifetime"/>.
    /// </summary>
    public TimeSpan? SigningKeyOverlap { get; init; }

    /// <summary>The overlap in force: <see cref="SigningKeyOverlap"/> or 2 × <see cref="SliceTokenLifetime"/>.</summary>
    public TimeSpan EffectiveSigningKeyOverlap => SigningKeyOverlap ?? SliceTokenLifetime * 2;

    /// <summary>Silence after which an agent is unhealthy: <see cref="HeartbeatInterval"/> × <see cref="MissedHeartbeats"/>.</summary>
    public TimeSpan UnhealthyAfter => HeartbeatInterval * MissedHeartbeats;

    /// <summary>
    /// Silence (time since an agent's last heartbeat) after which its slices move to other agents; it must be longer than
    /// <see cref="UnhealthyAfter"/>, the difference being the grace an unhealthy agent has to come back.
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns failover off. <see langword="null"/> (the default): 10 s, or
    /// <see cref="UnhealthyAfter"/> + <see cref="HeartbeatInterval"/> when that is longer.
    /// </summary>
    public TimeSpan? FailoverAfter { get; init; }

    /// <summary>The failover limit in force (see <see cref="FailoverAfter"/>).</summary>
    public TimeSpan EffectiveFailoverAfter => FailoverAfter
        ?? (UnhealthyAfter + HeartbeatInterval > DefaultFailoverAfter ? UnhealthyAfter + HeartbeatInterval : DefaultFailoverAfter);

    /// <summary>Whether silent agents' slices move at all.</summary>
    public bool FailoverEnabled => EffectiveFailoverAfter != Timeout.InfiniteTimeSpan;

    /// <summary>
    /// What agents are told as <c>fence_after</c>: halfway between turning unhealthy and failing over, so an agent that
    /// could not heartbeat stops serving before its slices can move. Without failover, twice the unhealthy limit.
    /// </summary>
    public TimeSpan AgentFenceAfter => FailoverEnabled ? (UnhealthyAfter + EffectiveFailoverAfter) / 2 : UnhealthyAfter * 2;

    private static TimeSpan DefaultFailoverAfter => TimeSpan.FromSeconds(10);
}
