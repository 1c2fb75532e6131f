namespace AccelBroker.Cli.Hosting;

/// <summary>How a <see cref="LoopbackFleet"/> is set up; every default is the embedded default of <c>accel demo</c>.</summary>
internal sealed record LoopbackFleetOptions
{
    /// <summary>Slice-type catalogue file; the broker's built-in EI catalogue when null.</summary>
    public string? CatalogPath { get; init; }

    /// <summary>Accelerator memory the agent offers; its own default (half the RAM) when null.</summary>
    public long? AgentMemoryBytes { get; init; }

    /// <summary>libtorch intra-op threads (process-wide); libtorch's default when null.</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>Forward passes the agent runs at once; the agent's default (one) when null.</summary>
    public int? ExecutionSlots { get; init; }

    /// <summary>Runs of one slice the agent lets wait to execute; the agent's default when null.</summary>
    public int? MaxQueuePerSlice { get; init; }

    /// <summary>Agent heartbeat interval: short, so the agent shows healthy soon after start.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Serve Prometheus metrics from both hosts on loopback port 0 (see <see cref="LoopbackFleet.BrokerMetricsUrl"/>).</summary>
    public bool EnableMetrics { get; init; }

    /// <summary>More log sinks for both hosts, after the quiet console (a test adds its secret scan); none when null.</summary>
    public Action<Microsoft.Extensions.Logging.ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>How long to wait for the agent to register healthy.</summary>
    public TimeSpan RegistrationTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
