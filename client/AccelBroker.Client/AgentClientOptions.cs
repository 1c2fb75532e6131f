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

    /// <summary>Interceptors applied to every call, outermost first: the place to attach credentials or tracing.</summary>
    public IReadOnlyList<Interceptor> Interceptors { get; init; } = [];
}
