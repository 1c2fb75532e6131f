using AccelBroker.Cli.Measuring;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Grpc.Core;

namespace AccelBroker.Cli.Comparing;

/// <summary>What every combination is measured with: the same model, precision, inputs (batch applied), runs and callers.</summary>
internal sealed record CompareWorkload(string ModelPath, ModelPrecision Precision, IReadOnlyList<Tensor> Inputs, int Runs, int Warmup, int Concurrency, bool CheckAccuracy)
{
    public string PrecisionName => Infrastructure.Formatting.Precision(Precision.ToProtocol());
}

/// <summary>
/// Measures each kind of combination where it really runs: slices attached in turn to a temporary host,
/// standalone CPU in this process, standalone GPU on a healthy CUDA agent of that instance type. Every one as a
/// closed loop of <see cref="CompareWorkload.Concurrency"/> callers.
/// </summary>
internal sealed class CompareMeasurer
{
    private readonly FleetClient _fleet;
    private readonly string? _caFile;
    private readonly CompareWorkload _work;
    private readonly bool _progress;

    public CompareMeasurer(FleetClient fleet, string? caFile, CompareWorkload work, bool progress)
    {
        _fleet = fleet;
        _caFile = caFile;
        _work = work;
        _progress = progress;
    }

    /// <summary>Unique per run, so a compare never touches a real host's accelerators.</summary>
    public string TempHost { get; } = "accel-compare-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// Attaches <paramref name="sliceType"/> to the temporary host, measures through one session, and always detaches.
    /// The model is loaded with a warm-up on the inputs' shapes, so the agent measures what it holds at this batch;
    /// a load the slice cannot hold is a does-not-fit outcome.
    /// </summary>
    public async Task<CompareOutcome> AttachedAsync(string hostType, string sliceType, long? sliceMemoryBytes, CancellationToken cancellationToken)
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
            return CompareOutcome.NotMeasured($"could not attach {sliceType}: {ex.Status.Detail}");
        }

        try
        {
            using AcceleratorSession session = await AcceleratorSession.OpenAsync(
                new AcceleratorSessionOptions { Broker = _fleet.Broker, Host = TempHost, Ordinal = accelerator.Ordinal, CaFile = _caFile, HostCredential = hostCredential }, cancellationToken);
            RemoteModel model;
            try
            {
                model = await session.LoadModelAsync(_work.ModelPath, new ModelLoadOptions
                {
                    Precision = _work.Precision,
                    WarmupInputs = [.. _work.Inputs.Select(t => (t.DataType, t.Shape.ToArray()))],
                }, cancellationToken);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                return DoesNotFit.FromRefusal(ex.Status.Detail, sliceMemoryBytes) is { } tooSmall
                    ? CompareOutcome.NotFitting(tooSmall)
                    : CompareOutcome.NotMeasured($"could not load the model on {sliceType}: {ex.Status.Detail}");
            }

            ClosedLoopResult measured = await CompareProgress.RunAsync(_progress, sliceType, _work.Runs, tick => ClosedLoop.RunAsync(
                _work.Concurrency, _work.Runs, _work.Warmup, async (_, token) => (await session.RunAsync(model, _work.Inputs, token)).Dispose(), tick, cancellationToken));
            AccuracyResult? accuracy = _work.CheckAccuracy ? await AccuracyCheck.RunAsync(session, _work.ModelPath, _work.Precision, _work.Inputs, cancellationToken) : null;
            return new CompareOutcome(measured, $"{model.Device}, {SessionBenchmark.Where(accelerator.AgentAddress)}", $"closed loop, {Callers()} on one session, one request in flight each", null, null, accuracy);
        }
        finally
        {
            // Also on failure or Ctrl-C: a compare leaves nothing attached.
            await _fleet.DetachAsync(TempHost, accelerator.Ordinal, CancellationToken.None);
        }
    }

    /// <summary>On this machine's CPU, one model copy per caller thread (a prepared model is not thread-safe).</summary>
    public Task<CompareOutcome> InProcessAsync(string instanceType, CancellationToken cancellationToken) =>
        InProcessLoop.MeasureAsync(_work, _progress, instanceType, cancellationToken);

    /// <summary>A healthy agent of that instance type running on CUDA, or a reason why none measured it.</summary>
    public async Task<CompareOutcome> GpuAgentAsync(string instanceType, CancellationToken cancellationToken)
    {
        IReadOnlyList<AgentDescription> agents = await _fleet.DescribeAgentsAsync(cancellationToken);
        AgentDescription? agent = agents.FirstOrDefault(a => a.Health == AgentHealth.Healthy && a.InstanceType == instanceType && a.Device?.Kind == "cuda");
        if (agent is null)
        {
            return CompareOutcome.NotMeasured($"no healthy cuda agent of instance type {instanceType}");
        }

        AgentClient client = await _fleet.OpenAgentAsync(agent.AgentId, cancellationToken);
        (ClosedLoopResult measured, string device) result;
        try
        {
            result = await AgentLocalLoop.MeasureAsync(client, _work, cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
        {
            return DoesNotFit.FromRefusal(ex.Status.Detail, null) is { } tooSmall
                ? CompareOutcome.NotFitting(tooSmall)
                : CompareOutcome.NotMeasured($"could not run on {agent.AgentId}: {ex.Status.Detail}");
        }

        string how = _work.Concurrency == 1
            ? "agent-local BenchmarkLocal: runs back to back, timed by the agent"
            : $"agent-local: {_work.Concurrency} concurrent BenchmarkLocal calls, each timed by the agent (the RPC itself runs one at a time)";
        AccuracyResult? accuracy = _work.CheckAccuracy
            ? AccuracyResult.NotChecked(_work.PrecisionName, "agent-local runs return no outputs to compare; check on an attached slice (accel bench --check-accuracy)")
            : null;
        return new CompareOutcome(result.measured, $"{result.device}, {AgentLocalBenchmark.Where(agent.Address)}", how, null, null, accuracy);
    }

    private string Callers() => _work.Concurrency == 1 ? "1 caller" : $"{_work.Concurrency} callers";
}
