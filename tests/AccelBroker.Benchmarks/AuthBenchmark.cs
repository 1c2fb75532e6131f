using AccelBroker.Client;

namespace AccelBroker.Benchmarks;

/// <summary>
/// What checking tokens adds to a run: p50 of <c>RunAsync</c> with the agent verifying every call's slice token against
/// p50 with verification off, in alternating blocks on the same agent, session and model; on the tiny model (target: at
/// most 3 %) and on ResNet-18 (target: nothing measurable, at most 1 %). The session sends its token either way, so this
/// measures the agent's check (interceptor, verified-token lookup, slice checks), not the header's bytes on the wire.
/// </summary>
internal sealed class AuthBenchmark : IBenchmark
{
    private const double TinyTarget = 1.03;
    private const double ResNetTarget = 1.01;
    private static readonly long[] ResNetShape = [1, 3, 224, 224];

    public string Name => "auth";

    public string Title => "RunAsync p50 with token checks vs without (same agent, session, model): tiny model and ResNet-18";

    private sealed record Pair(Samples With, Samples Without, string Device)
    {
        public double Ratio => With.P50 / Without.P50;
    }

    public async Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        AcceleratorSession session = context.Cluster.Session;
        RemoteModel tinyModel = await session.LoadModelAsync(context.Paths.Fixture("demo_mlp.pt"), cancellationToken: cancellationToken);
        BlockPlan tinyPlan = context.Quick
            ? new BlockPlan(WarmupEach: 50, Blocks: 4, PerBlock: 100, Budget: TimeSpan.FromSeconds(10))
            : new BlockPlan(WarmupEach: 500, Blocks: 10, PerBlock: 200, Budget: TimeSpan.FromSeconds(90));
        Pair tiny = await MeasureAsync(context, tinyModel, Npy.Read(context.Paths.Fixture("demo_mlp.input0.npy")), tinyPlan, cancellationToken);

        RemoteModel resnetModel = await session.LoadModelAsync(await context.LargeModels.RequireAsync("resnet18.pt", cancellationToken), cancellationToken: cancellationToken);
        BlockPlan resnetPlan = context.Quick
            ? new BlockPlan(WarmupEach: 3, Blocks: 2, PerBlock: 5, Budget: TimeSpan.FromSeconds(15))
            : new BlockPlan(WarmupEach: 10, Blocks: 10, PerBlock: 20, Budget: TimeSpan.FromSeconds(180));
        Pair resnet = await MeasureAsync(context, resnetModel, RandomInput(ResNetShape), resnetPlan, cancellationToken);
        await session.UnloadModelAsync(resnetModel, cancellationToken);

        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "p50 Run with checks / p50 Run without (tiny; ResNet-18)",
            Value = tiny.Ratio,
            ValueText = Fmt.Invariant($"{tiny.Ratio:0.000}x ({tiny.With.P50:0.000} / {tiny.Without.P50:0.000} ms); ResNet-18 {resnet.Ratio:0.000}x ({resnet.With.P50:0.00} / {resnet.Without.P50:0.00} ms)"),
            Target = Fmt.Invariant($"<= {TinyTarget:0.00}; ResNet-18 <= {ResNetTarget:0.00}"),
            Outcome = BenchmarkResult.Judge(tiny.Ratio <= TinyTarget && resnet.Ratio <= ResNetTarget),
            Device = tiny.Device,
            Details =
            [
                $"tiny, with checks       : {tiny.With.Describe()}",
                $"tiny, without checks    : {tiny.Without.Describe()}",
                Fmt.Invariant($"tiny: p90 ratio {tiny.With.P90 / tiny.Without.P90:0.000}x, mean ratio {tiny.With.Mean / tiny.Without.Mean:0.000}x; plan: {tinyPlan.Describe()}"),
                $"ResNet-18, with checks  : {resnet.With.Describe()}",
                $"ResNet-18, without      : {resnet.Without.Describe()}",
                Fmt.Invariant($"ResNet-18 ({resnet.Device}): p90 ratio {resnet.With.P90 / resnet.Without.P90:0.000}x, mean ratio {resnet.With.Mean / resnet.Without.Mean:0.000}x; plan: {resnetPlan.Describe()}"),
            ],
            Numbers = new Dictionary<string, double>
            {
                ["ratio_p50"] = tiny.Ratio,
                ["checked_p50_ms"] = tiny.With.P50,
                ["unchecked_p50_ms"] = tiny.Without.P50,
                ["checked_p90_ms"] = tiny.With.P90,
                ["unchecked_p90_ms"] = tiny.Without.P90,
                ["samples_each"] = tiny.With.Count,
                ["resnet18_ratio_p50"] = resnet.Ratio,
                ["resnet18_checked_p50_ms"] = resnet.With.P50,
                ["resnet18_unchecked_p50_ms"] = resnet.Without.P50,
                ["resnet18_samples_each"] = resnet.With.Count,
            },
        };
    }

    private static async Task<Pair> MeasureAsync(BenchmarkContext context, RemoteModel model, Tensor input, BlockPlan plan, CancellationToken cancellationToken)
    {
        AcceleratorSession session = context.Cluster.Session;
        var authorization = context.Cluster.AgentAuthorization;
        string device = "";
        Console.WriteLine($"  {plan.Describe()}");
        try
        {
            (List<double> with, List<double> without) = await AlternatingBlocks.RunAsync(
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
            return new Pair(new Samples(with), new Samples(without), device);
        }
        finally
        {
            authorization.Verifying = true;
        }
    }

    private static Tensor RandomInput(long[] shape)
    {
        var random = new Random(18);
        float[] values = new float[shape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return Tensor.FromArray(values, shape);
    }
}
