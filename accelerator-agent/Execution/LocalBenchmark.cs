using System.Diagnostics;
using AccelBroker.Agent.Isolation;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Execution;

/// <summary>
/// The standalone-instance measurement of seed 002: a held model runs on this agent's whole device, warm-up runs
/// first (discarded), then the measured ones, with no network between them. The model is loaded for the call
/// only, in a worker process of its own, and never placed on a slice.
/// </summary>
internal sealed class LocalBenchmark
{
    /// <summary>
    /// The scheduler tenant benchmark runs are charged to, with share 1 (the whole device). Not a slice id: the
    /// broker names slices "acc-" + hex digits, and the slice registry refuses this one.
    /// </summary>
    public const string ComputeTenant = "(local-benchmark)";

    public const int MaxIterations = 100_000;
    public const int MaxWarmup = 10_000;

    private readonly ModelLoader _loader;
    private readonly InferenceRunner _runner;
    private readonly SliceWorkers _workers;
    private readonly AgentOptions _options;
    private readonly TimeProvider _time;
    private int _active;

    public LocalBenchmark(ModelLoader loader, InferenceRunner runner, SliceWorkers workers, AgentOptions options, TimeProvider time)
    {
        _loader = loader;
        _workers = workers;
        _runner = runner;
        _options = options;
        _time = time;
    }

    /// <summary>Benchmarks in progress, each holding its own copy of a model.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>"cuda:0 (NVIDIA T4)": the label clients see on runs, with the device's name.</summary>
    public string DeviceLabel => _runner.Device.Name.Length == 0 ? _runner.Device.Label : $"{_runner.Device.Label} ({_runner.Device.Name})";

    public async Task<BenchmarkLocalResponse> RunAsync(BenchmarkLocalRequest request, DateTime deadline, CancellationToken cancellationToken)
    {
        if (request.Iterations is < 1 or > MaxIterations)
        {
            throw DomainException.Invalid($"iterations must be between 1 and {MaxIterations}, got {request.Iterations}");
        }

        if (request.Warmup is < 0 or > MaxWarmup)
        {
            throw DomainException.Invalid($"warmup must be between 0 and {MaxWarmup}, got {request.Warmup}");
        }

        // Inputs are checked before the model is loaded: a bad request costs no load.
        List<WireTensor> inputs = InputDecoder.Decode(request.Inputs, _options.MaxRequestBytes);
        // Tenant bytes run in a process of their own, like a slice's; it goes when the benchmark ends.
        await using WorkerProcess worker = await _workers.StartDedicatedAsync(ComputeTenant);
        // The load takes the device like a run does: it waits for a slot, under the benchmark's tenant.
        LoadedModel model = await _runner.WithSlotAsync(
            ComputeTenant, share: 1, () => _loader.LoadDetachedAsync(request.Sha256, request.Precision, worker), cancellationToken);
        Interlocked.Increment(ref _active);
        try
        {
            var response = new BenchmarkLocalResponse { Device = DeviceLabel };
            int total = request.Warmup + request.Iterations;
            for (int i = 0; i < total; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (deadline != DateTime.MaxValue && _time.GetUtcNow().UtcDateTime >= deadline)
                {
                    throw DomainException.Deadline($"the call's deadline passed after {Math.Max(0, i - request.Warmup)} of {request.Iterations} measured runs; nothing is left loaded");
                }

                // The same path as Run: the runner shares the slots with every slice's runs.
                long started = Stopwatch.GetTimestamp();
                _ = await _runner.RunAsync(model, ComputeTenant, share: 1, inputs, nativeOutputDtype: false, deadline, started: null, cancellationToken);
                double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                if (i >= request.Warmup)
                {
                    response.LatenciesSeconds.Add(seconds);
                }
            }

            return response;
        }
        finally
        {
            model.Retire();
            Interlocked.Decrement(ref _active);
        }
    }
}
