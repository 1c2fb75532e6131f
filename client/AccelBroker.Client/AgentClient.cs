using AccelBroker.Client.Internal;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Client;

/// <summary>
/// One agent, reached directly (the broker is not on the data path): its model store and its agent-local benchmark.
/// Thread-safe; the gRPC channel per agent address is shared by the whole process, so there is nothing to dispose.
/// </summary>
/// <remarks>Failures surface as <see cref="RpcException"/> with the agent's status and message.</remarks>
public sealed class AgentClient
{
    private readonly AgentClientOptions _options;

    /// <summary>Creates a client of the agent at <paramref name="address"/>.</summary>
    /// <param name="address">The agent's gRPC address as the broker advertises it, e.g. <c>http://gpu-host-1:7001</c>.</param>
    /// <param name="options">Timeouts, the access token and interceptors; <see langword="null"/> for the defaults.</param>
    public AgentClient(string address, AgentClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        Address = address;
        _options = options ?? new AgentClientOptions();
        Raw = new InferenceAgent.InferenceAgentClient(AgentChannels.Get(address, _options.ConnectTimeout, _options.CaFile).CreateCallInvoker().Intercept(BearerCredential.Around(_options.Interceptors, _options.AccessToken)));
    }

    /// <summary>The agent's address.</summary>
    public string Address { get; }

    internal InferenceAgent.InferenceAgentClient Raw { get; }

    /// <summary>Uploads a TorchScript file unless the agent holds its bytes already (models are content-addressed).</summary>
    /// <param name="path">Path of a TorchScript file.</param>
    /// <param name="cancellationToken">Cancels the check and the upload.</param>
    /// <returns>The bytes as the agent now holds them.</returns>
    /// <exception cref="RpcException">From the agent, e.g. Unavailable when it cannot be reached.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public async Task<HeldModel> EnsureModelHeldAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        (string sha256, long length, bool uploaded) = await ModelUploader.EnsureHeldAsync(Raw, path, compression: false, TransferDeadline, cancellationToken);
        return new HeldModel(sha256, length, uploaded);
    }

    /// <summary>
    /// Has the agent time a held model's forward calls itself, on its whole device, with no network between the runs:
    /// how a standalone instance of the agent's type would serve the model. Runs outside every slice.
    /// </summary>
    /// <param name="model">Bytes the agent holds (<see cref="EnsureModelHeldAsync"/>).</param>
    /// <param name="inputs">The forward's arguments, the same for every run.</param>
    /// <param name="options">Precision, measured runs and warm-up runs; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Each measured run's latency and the executing device.</returns>
    /// <exception cref="RpcException">From the agent: InvalidArgument for inputs the model rejects or bad counts, NotFound for bytes it does not hold.</exception>
    public async Task<LocalBenchmarkResult> BenchmarkLocalAsync(HeldModel model, IReadOnlyList<Tensor> inputs, LocalBenchmarkOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new LocalBenchmarkOptions();
        var request = new BenchmarkLocalRequest
        {
            Sha256 = model.Sha256,
            Precision = WireConversion.ToWire(options.Precision),
            Iterations = options.Iterations,
            Warmup = options.Warmup,
        };
        foreach (Tensor input in inputs)
        {
            request.Inputs.Add(WireConversion.ToProto(input, compress: false));
        }

        BenchmarkLocalResponse response = await Raw.BenchmarkLocalAsync(request, deadline: DateTime.UtcNow + _options.BenchmarkTimeout, cancellationToken: cancellationToken);
        return new LocalBenchmarkResult([.. response.LatenciesSeconds], response.Device);
    }

    internal DateTime CallDeadline() => DateTime.UtcNow + _options.CallTimeout;

    internal DateTime TransferDeadline() => DateTime.UtcNow + _options.TransferTimeout;
}
