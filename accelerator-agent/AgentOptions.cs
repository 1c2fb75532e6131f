namespace AccelBroker.Agent;

/// <summary>Configuration of an accelerator agent.</summary>
public sealed record AgentOptions
{
    /// <summary>URL Kestrel listens on (HTTP/2: h2c for http, TLS from <see cref="TlsCertificateFile"/> for https); port 0 picks a free port.</summary>
    public string Listen { get; init; } = "http://127.0.0.1:7001";

    /// <summary>
    /// Absolute http or https URL (no path) of a separate HTTP/1.1 endpoint serving Prometheus metrics at
    /// <c>/metrics</c>, reported to the broker; <see langword="null"/> (the default) serves none. Port 0 picks a free port.
    /// </summary>
    public string? MetricsListen { get; init; }

    /// <summary>
    /// OTLP/HTTP endpoint (for example http://collector:4318) the agent's traces are exported to; <see langword="null"/>
    /// (the default) exports none.
    /// </summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>PEM certificate served on an https listen URL, with <see cref="TlsKeyFile"/>; reloaded when the files change.</summary>
    public string? TlsCertificateFile { get; init; }

    /// <summary>PEM private key of <see cref="TlsCertificateFile"/>.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>PEM CA certificates that the broker's https certificates must chain to; <see langword="null"/> uses the system store.</summary>
    public string? CaFile { get; init; }

    /// <summary>
    /// PEM client certificate the agent presents to the broker, with <see cref="TlsClientKeyFile"/>, for a broker that
    /// requires mutual TLS; reloaded when the files change.
    /// </summary>
    public string? TlsClientCertificateFile { get; init; }

    /// <summary>PEM private key of <see cref="TlsClientCertificateFile"/>.</summary>
    public string? TlsClientKeyFile { get; init; }

    /// <summary>
    /// PEM CA bundle that the broker's client certificate must chain to (https only): every AgentControl call then needs
    /// a connection with such a certificate. Inference clients need none.
    /// </summary>
    public string? ClientCaFile { get; init; }

    /// <summary>Broker to register with; <see langword="null"/> runs the agent standalone.</summary>
    public string? BrokerAddress { get; init; }

    /// <summary>Address clients use to reach this agent; defaults to the bound listen address.</summary>
    public string? AdvertiseAddress { get; init; }

    /// <summary>"cpu" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Instance type of the machine the agent runs on (for cost reports), e.g. g4dn.xlarge.</summary>
    public string? InstanceType { get; init; }

    /// <summary>Accelerator memory offered to slices; defaults to half the RAM on cpu, 90 % of device memory on cuda.</summary>
    public long? MemoryBytes { get; init; }

    /// <summary>Share of the device offered to slices (1.0 = all of it).</summary>
    public double Compute { get; init; } = 1.0;

    /// <summary>Where uploaded models are kept (content-addressed); defaults to a folder under the temp path.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>File the bound gRPC address is written to once the agent listens; <see langword="null"/> writes none.</summary>
    public string? AddressFile { get; init; }

    /// <summary>Identity to register under; the broker assigns one when empty.</summary>
    public string? AgentId { get; init; }

    /// <summary>
    /// File holding an enrolment token (<c>abe_...</c>), used once to enrol when <see cref="CredentialFile"/> does not exist yet.
    /// </summary>
    public string? EnrollmentTokenFile { get; init; }

    /// <summary>
    /// File holding this agent's credential (<c>aba_...</c>): read when it exists, otherwise written (0600) after enrolling.
    /// Without it an enrolled credential lasts for the life of the process.
    /// </summary>
    public string? CredentialFile { get; init; }

    /// <summary>Forward passes that may run at once; with the intra-op threads this bounds CPU use.</summary>
    public int ExecutionSlots { get; init; } = 1;

    /// <summary>
    /// Runs of one slice admitted and not yet executing (waiting for an execution slot or a batch, receiving a
    /// streamed input, reloading an evicted model); one past it is refused at once with <c>ResourceExhausted</c>
    /// instead of waiting without bound. At least 1.
    /// </summary>
    public int MaxQueuePerSlice { get; init; } = DefaultMaxQueuePerSlice;

    /// <summary>
    /// Twice the 64 concurrent callers the load benchmarks drive, so an ordinary closed loop never meets it, while a
    /// backlog stays near a second of work at ~10 ms a run instead of growing until callers time out.
    /// </summary>
    public const int DefaultMaxQueuePerSlice = 128;

    /// <summary>libtorch intra-op threads (process-wide); defaults to the cores divided among the execution slots.</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>
    /// Disk space for uploaded models; past it, the least recently used models are deleted. Models the
    /// agent has loaded are never deleted, so a run that reloads an evicted-from-memory model finds its bytes.
    /// </summary>
    public long ModelStoreBytes { get; init; } = 20L * 1024 * 1024 * 1024;

    /// <summary>
    /// Fraction of a slice's memory budget past which a load first unloads the least recently used idle models
    /// (seed 003's SageMaker default: 90 %). The budget itself is never exceeded.
    /// </summary>
    public double EvictionThreshold { get; init; } = 0.9;

    /// <summary>
    /// The longest a forward pass may run. A pass past this, or more than a second past its call's deadline, is
    /// stopped with its slice's worker process, so a model that never returns cannot hold an execution slot that
    /// other slices wait for.
    /// </summary>
    public TimeSpan MaxRunTime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a load and its warm-up may take before the slice's worker is stopped and the bytes refused.</summary>
    public TimeSpan MaxLoadTime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long the agent watches shared memory for a worker's answer to a run before it sleeps on the pipe.
    /// A run that answers within it costs one cross-process wake-up fewer; models whose runs take longer are
    /// never watched. Zero turns watching off.
    /// </summary>
    public TimeSpan ReplyWatch { get; init; } = TimeSpan.FromMicroseconds(250);

    /// <summary>Largest model accepted for upload.</summary>
    public long MaxModelBytes { get; init; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Uploads the agent receives at once; one past it is refused at once rather than queued.</summary>
    public int MaxConcurrentUploads { get; init; } = 8;

    /// <summary>
    /// Declared bytes of all uploads in progress together; an upload whose declared length would pass it is refused
    /// at once. The default holds two models of the default <see cref="MaxModelBytes"/>.
    /// </summary>
    public long MaxUploadBytesInFlight { get; init; } = 8L * 1024 * 1024 * 1024;

    /// <summary>How long an upload may send nothing before it is ended and its partial file and reservation freed.</summary>
    public TimeSpan UploadIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest total input size accepted for one run.</summary>
    public long MaxRequestBytes { get; init; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// How long a streaming run waits for its client's next message (the header, then each chunk) before it is
    /// ended with <c>DeadlineExceeded</c> and what it held is released.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a tiny tensor op checks that the device computes, for readiness (the gRPC health service); the
    /// answer is cached in between, so probes never touch the device.
    /// </summary>
    public TimeSpan DeviceCheckInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Back large CPU tensors (2 MiB and more) in the slice workers with transparent huge pages (libtorch's
    /// THP_MEM_ALLOC_ENABLE). On by default: glibc maps every block over 32 MiB fresh and unmaps it on free, so a model
    /// making a 64 MiB tensor paid 16,384 first-touch page faults on every run (its <c>clone()</c>: 188 ms); with
    /// huge pages it paid ~550 (48 ms). Measured in the same session, remote ResNet-18 did not change (means 44.1 and
    /// 38.7 ms with, 41.3 and 40.7 ms without). Only the workers: the agent's own process runs no models.
    /// </summary>
    public bool HugePageAllocation { get; init; } = true;

    /// <summary>
    /// Allow listening on a non-loopback address without TLS. Without it such an agent refuses to start; with it, it warns
    /// at every start: models and tensors then travel in the clear.
    /// </summary>
    public bool Insecure { get; init; }
}
