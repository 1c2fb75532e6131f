using Grpc.Core.Interceptors;

namespace AccelBroker.Client;

/// <summary>Which accelerator to open and how to talk to it.</summary>
public sealed record AcceleratorSessionOptions
{
    /// <summary>Environment variable naming the broker URL.</summary>
    public const string BrokerVariable = "ACCEL_BROKER";

    /// <summary>Environment variable naming this client host.</summary>
    public const string HostVariable = "ACCEL_HOST";

    /// <summary>Environment variable holding the host's credential (<see cref="HostCredential"/>).</summary>
    public const string HostCredentialVariable = "ACCEL_HOST_CREDENTIAL";

    /// <summary>Environment variable holding an operator API key, the fallback when no host credential is given.</summary>
    public const string ApiKeyVariable = "ACCEL_API_KEY";

    /// <summary>Broker URL; defaults to <c>ACCEL_BROKER</c>.</summary>
    public string? Broker { get; init; }

    /// <summary>Client host the accelerator is attached to; defaults to <c>ACCEL_HOST</c>, then the machine's host name.</summary>
    public string? Host { get; init; }

    /// <summary>
    /// What the session presents to the broker to resolve the host's accelerator and report its usage: the host credential
    /// <c>accel attach</c> printed for the host (<c>abh_…</c>), or an operator API key. Defaults to <c>ACCEL_HOST_CREDENTIAL</c>,
    /// then <c>ACCEL_API_KEY</c>. It is sent to the broker only, never to an agent.
    /// </summary>
    public string? HostCredential { get; init; }

    /// <summary>Accelerator ordinal on the host (0 for EI's eia:0).</summary>
    public int Ordinal { get; init; }

    /// <summary>
    /// Deadline of each call the application makes (uploads of large models included), fixed when the call starts: a
    /// call that recovers from a moved or lost agent shares it among its attempts, re-resolutions and reloads.
    /// </summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long to wait for a TCP connection before reporting the peer unavailable.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// PEM file of the CA certificates an https broker's or agent's certificate must chain to (a private CA made by
    /// <c>accel certs create-ca</c>); <see langword="null"/> (the default) trusts the system store. Host names are checked either way.
    /// </summary>
    public string? CaFile { get; init; }

    /// <summary>LZ4-compress tensors and model chunks where it shrinks them. Off by default: on fast links it costs more than it saves.</summary>
    public bool Compression { get; init; }

    /// <summary>Ask for fp16/bf16 models' floating outputs in their own dtype instead of float32.</summary>
    public bool NativeOutputDtype { get; init; }

    /// <summary>
    /// How often the session sends its cumulative end-to-end latency and failure counts to the broker (for
    /// <c>accel usage</c>); a last report follows on dispose. <see cref="TimeSpan.Zero"/> sends none. Reporting
    /// never fails or delays a run. Default 10 seconds.
    /// </summary>
    public TimeSpan UsageReportInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Interceptors applied to every call to the broker and the agent, outermost first: the place to attach
    /// credentials, tracing or retries.
    /// </summary>
    public IReadOnlyList<Interceptor> Interceptors { get; init; } = [];

    /// <summary>
    /// Keep a copy of the bytes of every model loaded from memory (<see cref="AcceleratorSession.LoadModelAsync(ReadOnlyMemory{byte}, ModelLoadOptions?, CancellationToken)"/>)
    /// for as long as it stays loaded, so that when the accelerator moves to another agent the session can upload it there
    /// and load it again without the application noticing. On by default. It costs the model's size in this process's
    /// memory, once per distinct model however often it is loaded; models loaded from a file keep only the path (the file
    /// is read again, and must still have the same SHA-256). Off: nothing is kept, and a call on a model loaded from bytes
    /// fails with <see cref="Grpc.Core.StatusCode.FailedPrecondition"/> once the accelerator has moved, until it is loaded again.
    /// </summary>
    public bool KeepModelBytesForRecovery { get; init; } = true;

    /// <summary>The clock of deadlines and backoff: the system's, or a fake one in tests.</summary>
    internal TimeProvider Time { get; init; } = TimeProvider.System;

    internal string ResolveBroker() =>
        Broker ?? Environment.GetEnvironmentVariable(BrokerVariable)
        ?? throw new InvalidOperationException($"no broker given: set {nameof(Broker)} or the {BrokerVariable} environment variable");

    internal string? ResolveCredential() =>
        HostCredential ?? Environment.GetEnvironmentVariable(HostCredentialVariable) ?? Environment.GetEnvironmentVariable(ApiKeyVariable);

    internal string ResolveHost() =>
        Host ?? Environment.GetEnvironmentVariable(HostVariable) ?? System.Net.Dns.GetHostName();
}
