using AccelBroker.Client;

namespace AccelBroker.Benchmarks;

/// <summary>
/// What checking tokens adds to a tiny model's run: p50 of <c>RunAsync</c> on demo_mlp.pt with the agent verifying
/// every call's slice token against p50 with verification off, in alternating blocks on the same agent, session and
/// model. The session sends its token either way, so this measures the agent's check (interceptor, verified-token
/// lookup, slice checks), not the header's bytes on the wire.
/// </summary>
internal sealed class AuthBenchmark : IBenchmark
{
    private const double TargetRatio = 1.03;

    public string Name => "auth";

    public string Title => "tiny model: RunAsync p50 with token checks vs without (same agent, session, model)";

    public async Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        AcceleratorSession session = context.Cluster.Session;
        var authorization = context.Cluster.AgentAuthorization;
        RemoteModel model = await session.LoadModelAsync(context.Paths.Fixture("demo_mlp.pt"), cancellationToken: cancellationToken);
        Tensor input = Npy.Read(context.Paths.Fixture("demo_mlp.input0.npy"));
        string device = "";

        BlockPlan plan = context.Quick
            ? new BlockPlan(WarmupEach: 50, Blocks: 4, PerBlock: 100, Budget: TimeSpan.FromSeconds(10))
            : new BlockPlan(WarmupEach: 500, Blocks: 10, PerBlock: 200, Budget: TimeSpan.FromSeconds(90));
        Console.WriteLine($"  {plan.Describe()}");
        List<double> with, without;
        try
        {
            (with, without) = await AlternatingBlocks.RunAsync(
                async () =>
                {
                    authorization.Verifying = true;
                    device = (await session.RunAsync(model, [input], cancellationToken)).Device;
                },
                async () =>
                {
                    authorization.Verifying = false;
                    _ = await session.RunAsync(model, [input], cancellationToken);
                },
                plan,
                cancellationToken);
        }
        finally
        {
            authorization.Verifying = true;
        }

        var checkedRuns = new Samples(with);
        var uncheckedRuns = new Samples(without);
        double ratio = checkedRuns.P50 / uncheckedRuns.P50;
        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "p50 Run with checks / p50 Run without",
            Value = ratio,
            ValueText = Fmt.Invariant($"{ratio:0.000}x ({checkedRuns.P50:0.000} / {uncheckedRuns.P50:0.000} ms)"),
            Target = Fmt.Invariant($"<= {TargetRatio:0.00}"),
            Outcome = BenchmarkResult.Judge(ratio <= TargetRatio),
            Device = device,
            Details =
            [
                $"with checks   : {checkedRuns.Describe()}",
                $"without checks: {uncheckedRuns.Describe()}",
                Fmt.Invariant($"p90 ratio {checkedRuns.P90 / uncheckedRuns.P90:0.000}x, mean ratio {checkedRuns.Mean / uncheckedRuns.Mean:0.000}x; plan: {plan.Describe()}"),
            ],
            Numbers = new Dictionary<string, double>
            {
                ["ratio_p50"] = ratio,
                ["checked_p50_ms"] = checkedRuns.P50,
                ["unchecked_p50_ms"] = uncheckedRuns.P50,
                ["checked_p90_ms"] = checkedRuns.P90,
                ["unchecked_p90_ms"] = uncheckedRuns.P90,
                ["samples_each"] = checkedRuns.Count,
            },
        };
    }
}
