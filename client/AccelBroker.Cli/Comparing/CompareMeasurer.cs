using AccelBroker.Cli.Commands;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Measuring;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Cli.Comparing;

/// <summary>
/// Measures each kind of combination where it really runs: slices attached in turn to a temporary host,
/// standalone CPU in this process, standalone GPU on a healthy CUDA agent of that instance type.
/// </summary>
internal sealed class CompareMeasurer
{
    private readonly FleetClient _fleet;
    private readonly string? _caFile;
    private readonly string _modelPath;
    private readonly ModelPrecision _precision;
    private readonly IReadOnlyList<Tensor> _inputs;
    private readonly int _runs;
    private readonly int _warmup;
    private readonly bool _progress;

    public CompareMeasurer(FleetClient fleet, string? caFile, string modelPath, ModelPrecision precision, IReadOnlyList<Tensor> inputs, int runs, int warmup, bool progress)
    {
        _fleet = fleet;
        _caFile = caFile;
        _modelPath = modelPath;
        _precision = precision;
        _inputs = inputs;
        _runs = runs;
        _warmup = warmup;
        _progress = progress;
    }

    /// <summary>Unique per run, so a compare never touches a real host's accelerators.</summary>
    public string TempHost { get; } = "accel-compare-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Attaches <paramref name="sliceType"/> to the temporary host, measures through a session, and always detaches.</summary>
    public async Task<(Measurement? Measured, string? ExecutedOn, string? Reason)> AttachedAsync(string hostType, string sliceType, CancellationToken cancellationToken)
    {
        Accelerator accelerator;
        string hostCredential;
        try
        {
            // The temporary host is new, so the broker hands out its credential: the session uses it as an application would.
            AttachResponse attached = await _fleet.AttachAsync(new AttachRequest { Host = TempHost, SliceType = sliceType, HostType = hostType }, cancellationToken);
            accelerator = attached.Accelerator;
            hostCredential = attached.HostCredential;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.ResourceExhausted or StatusCode.FailedPrecondition or StatusCode.NotFound)
        {
            return (null, null, $"could not attach {sliceType}: {ex.Status.Detail}");
        }

        try
        {
            using AcceleratorSession session = await AcceleratorSession.OpenAsync(
                new AcceleratorSessionOptions { Broker = _fleet.Broker, Host = TempHost, Ordinal = accelerator.Ordinal, CaFile = _caFile, HostCredential = hostCredential }, cancellationToken);
            Measurement measured = _progress
                ? await BenchCommand.WithProgressAsync(_runs, tick => SessionBenchmark.MeasureAsync(session, _modelPath, _precision, _inputs, _runs, _warmup, tick, cancellationToken))
                : await SessionBenchmark.MeasureAsync(session, _modelPath, _precision, _inputs, _runs, _warmup, null, cancellationToken);
            return (measured, $"{measured.Device}, {SessionBenchmark.Where(accelerator.AgentAddress)}", null);
        }
        finally
        {
            // Also on failure or Ctrl-C: a compare leaves nothing attached.
            await _fleet.DetachAsync(TempHost, accelerator.Ordinal, CancellationToken.None);
        }
    }

    public (Measurement? Measured, string? ExecutedOn, string? Reason) InProcess(CancellationToken cancellationToken)
    {
        Measurement measured = InProcessBenchmark.Measure(_modelPath, _precision, _inputs, _runs, _warmup, cancellationToken);
        return (measured, $"{measured.Device}, {InProcessBenchmark.Where}", null);
    }

    /// <summary>A healthy agent of that instance type running on CUDA, or a reason why none measured it.</summary>
    public async Task<(Measurement? Measured, string? ExecutedOn, string? Reason)> GpuAgentAsync(string instanceType, CancellationToken cancellationToken)
    {
        IReadOnlyList<AgentDescription> agents = await _fleet.DescribeAgentsAsync(cancellationToken);
        AgentDescription? agent = agents.FirstOrDefault(a => a.Health == AgentHealth.Healthy && a.InstanceType == instanceType && a.Device?.Kind == "cuda");
        if (agent is null)
        {
            return (null, null, $"no healthy cuda agent of instance type {instanceType}");
        }

        Measurement measured = await AgentLocalBenchmark.MeasureAsync(await _fleet.OpenAgentAsync(agent.AgentId, cancellationToken), _modelPath, _precision, _inputs, _runs, _warmup, cancellationToken);
        return (measured, $"{measured.Device}, {AgentLocalBenchmark.Where(agent.Address)}", null);
    }
}
