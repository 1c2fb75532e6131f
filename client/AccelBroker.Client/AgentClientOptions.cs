using Grpc.Core.Interceptors;

namespace AccelBroker.Client;

/// <summary>How <see cref="AgentClient"/> and <see cref="SliceClient"/> talk to an agent.</summary>
public sealed record AgentClientOptions
{
    /// <summary>How long to wait for a TCP connection before reporting the agent unavailable. Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// PEM file of the CA certificates an https agent's certificate must chain to (a private CA made by
    /// <c>accel certs create-ca</c>); <see langword="null"/> (the default) trusts the system store. Host names are checked either way.
    /// </summary>
    public string? CaFile { get; init; }

    /// <summary>Deadline of short calls: listings and unloads. Default 15 seconds.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Deadline of uploads and loads, which take far longer than a listing for large models (a load includes its
    /// warm-up run). Default 5 minutes.
    /// </summary>
    public TimeSpan TransferTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Deadline of an agent-local benchmark, all its runs together. Default 30 minutes.</summary>
    public TimeSpan BenchmarkTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// The broker-signed token sent to the agent on every call (<c>authorization: Bearer</c>): a slice token
    /// (<see cref="FleetClient.OpenSliceAsync"/> sets it) or an operator token (<see cref="FleetClient.OpenAgentAsync"/>
    /// sets it). Agents refuse calls without one. It expires (10 minutes by default): open the slice or agent again
    /// for a new one. <see langword="null"/> (the default) sends none.
    /// </summary>
    public string? AccessToken { get; init; }

    /// <summary>Interceptors applied to every call, outermost first: the place to attach tracing.</summary>
    public IReadOnlyList<Interceptor> Interceptors { get; init; } = [];
}
