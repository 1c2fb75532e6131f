using AccelBroker.Client;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Overhead of a remote run of a tiny model over the bare transport: p50 of <c>RunAsync</c> on
/// demo_mlp.pt (float32 [1, 16]) against p50 of a unary Echo of the same 64 bytes to the same agent (the tuned
/// echo: same channel, marshalling and Kestrel settings, received into a reused buffer), with a raw TCP echo of the
/// same bytes as the machine's floor, all three in alternating blocks.
/// </summary>
internal sealed class TinyBenchmark : IBenchmark
{
    private const double TargetRatio = 1.3;

    public string Name => "tiny";

    public string Title => "tiny model: RunAsync p50 vs gRPC Echo p50 (same 64-byte payload)";

    public async Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        AcceleratorSession session = context.Cluster.Session;
        RemoteModel model = await session.LoadModelAsync(context.Paths.Fixture("demo_mlp.pt"), cancellationToken: cancellationToken);
        Tensor input = Npy.Read(context.Paths.Fixture("demo_mlp.input0.npy"));
        ReadOnlyMemory<byte> payload = input.Data;
        string device = "";
        var agentWork = new List<double>();

        BlockPlan plan = context.Quick
            ? new BlockPlan(WarmupEach: 50, Blocks: 4, PerBlock: 100, Budget: TimeSpan.FromSeconds(10))
            : new BlockPlan(WarmupEach: 500, Blocks: 10, PerBlock: 200, Budget: TimeSpan.FromSeconds(90));
        Console.WriteLine($"  {plan.Describe()}");
        byte[] echoed = new byte[payload.Length];
        await using RawTcpEcho raw = await RawTcpEcho.StartAsync(payload.Length);
        List<double>[] samples = await AlternatingBlocks.RunAsync(
            [
                async () =>
                {
                    using ModelOutput output = await session.RunAsync(model, [input], cancellationToken);
                    device = output.Device;
                    agentWork.Add((output.Timing.Queue + output.Timing.Decode + output.Timing.Compute + output.Timing.Encode).TotalMilliseconds);
                },
                () => session.EchoIntoAsync(payload, echoed, cancellationToken),
                () => raw.EchoAsync(payload, cancellationToken),
            ],
            plan,
            cancellationToken);
        List<double> run = samples[0];

        var runs = new Samples(run);
        var echoes = new Samples(samples[1]);
        var tcp = new Samples(samples[2]);
        double ratio = runs.P50 / echoes.P50;
        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "p50 Run / p50 Echo",
            Value = ratio,
            ValueText = Fmt.Invariant($"{ratio:0.00}x ({runs.P50:0.000} / {echoes.P50:0.000} ms)"),
            Target = Fmt.Invariant($"<= {TargetRatio:0.00}"),
            Outcome = BenchmarkResult.Judge(ratio <= TargetRatio),
            Device = device,
            Details =
            [
                $"input {input} = {payload.Length} bytes; model {model.ModelId}",
                $"RunAsync : {runs.Describe()}",
                $"EchoAsync: {echoes.Describe()}",
                $"raw TCP  : {tcp.Describe()}",
                Fmt.Invariant($"Echo p50 / raw TCP p50 = {echoes.P50 / tcp.P50:0.00}x; Run p50 / raw TCP p50 = {runs.P50 / tcp.P50:0.00}x"),
                Fmt.Invariant($"agent-side work per run (queue + decode + forward + encode, as the agent reports it): p50 {new Samples(agentWork.Skip(agentWork.Count - run.Count)).P50:0.000} ms (warm-up excluded)"),
                Fmt.Invariant($"p90 ratio {runs.P90 / echoes.P90:0.00}x, mean ratio {runs.Mean / echoes.Mean:0.00}x; plan: {plan.Describe()}"),
            ],
            Numbers = new Dictionary<string, double>
            {
                ["ratio_p50"] = ratio,
                ["run_p50_ms"] = runs.P50,
                ["run_p90_ms"] = runs.P90,
                ["run_mean_ms"] = runs.Mean,
                ["echo_p50_ms"] = echoes.P50,
                ["echo_p90_ms"] = echoes.P90,
                ["echo_mean_ms"] = echoes.Mean,
                ["raw_tcp_p50_ms"] = tcp.P50,
                ["samples_each"] = runs.Count,
            },
        };
    }
}
