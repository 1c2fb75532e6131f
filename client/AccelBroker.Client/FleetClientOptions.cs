using Grpc.Core.Interceptors;

namespace AccelBroker.Client;

/// <summary>Which broker <see cref="FleetClient"/> asks, and how.</summary>
public sealed record FleetClientOptions
{
    /// <summary>Broker URL; defaults to the <c>ACCEL_BROKER</c> environment variable (<see cref="AcceleratorSessionOptions.BrokerVariable"/>).</summary>
    public string? Broker { get; init; }

    /// <summary>
    /// Operator API key (<c>abk_…</c>) sent with every broker call; defaults to the <c>ACCEL_API_KEY</c> environment variable
    /// (<see cref="AcceleratorSessionOptions.ApiKeyVariable"/>). Its role decides what the broker allows: viewer (describe,
    /// usage, prices), operator (also attach, detach, resolve any host), admin (also manage keys). Never sent to agents.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>How long to wait for a TCP connection before reporting the broker unavailable. Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// PEM file of the CA certificates an https broker's certificate must chain to (a private CA made by
    /// <c>accel certs create-ca</c>); <see langword="null"/> (the default) trusts the system store. Host names are checked either way.
    /// Agents are verified against it too unless <see cref="AgentClientOptions.CaFile"/> of <see cref="Agents"/> is set.
    /// </summary>
    public string? CaFile { get; init; }

    /// <summary>Deadline of each call to the broker. Default 15 seconds.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Interceptors applied to every call to the broker, outermost first: the place to attach credentials or tracing.</summary>
    public IReadOnlyList<Interceptor> Interceptors { get; init; } = [];

    /// <summary>How the slices <see cref="FleetClient.OpenSliceAsync"/> opens, and the agents <see cref="FleetClient.Agent"/> returns, are reached.</summary>
    public AgentClientOptions Agents { get; init; } = new();
}
