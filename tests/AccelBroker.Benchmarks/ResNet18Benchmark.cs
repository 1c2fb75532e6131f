using System.Diagnostics;
using System.Runtime.InteropServices;
using AccelBroker.Client;
using TorchSharp;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Remote ResNet-18 (batch 1, float32 [1, 3, 224, 224]) against the same TorchScript run with TorchSharp in
/// this process: mean against mean. Both use libtorch's one process-wide intra-op pool, so they run in
/// alternating blocks and never at the same time.
/// </summary>
internal sealed class ResNet18Benchmark : IBenchmark
{
    private const double TargetRatio = 1.06;

    // The remote call may add at most this many times what the tuned echo of the same bytes costs.
    private const double TargetOverEcho = 1.5;
    private static readonly long[] Shape = [1, 3, 224, 224];

    public string Name => "resnet18";

    public string Title => "ResNet-18 batch 1: remote Run mean vs in-process TorchSharp mean";

    public async Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        string path = await context.LargeModels.RequireAsync("resnet18.pt", cancellationToken);
        AcceleratorSession session = context.Cluster.Session;
        RemoteModel remote = await session.LoadModelAsync(path, cancellationToken: cancellationToken);
        using var local = new InProcessModel(path);

        var random = new Random(18);
        float[] values = new float[Shape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        Tensor input = Tensor.FromArray(values, Shape);
        byte[] inputBytes = input.Data.ToArray();
        string device = "";
        byte[] remoteOut = [];
        byte[] localOut = [];
        var agentCompute = new List<double>();

        BlockPlan plan = context.Quick
            ? new BlockPlan(WarmupEach: 3, Blocks: 2, PerBlock: 5, Budget: TimeSpan.FromSeconds(15))
            : new BlockPlan(WarmupEach: 10, Blocks: 6, PerBlock: 20, Budget: TimeSpan.FromSeconds(180));
        Console.WriteLine($"  {plan.Describe()}");
        byte[] echoed = new byte[input.Data.Length];
        await using RawTcpEcho raw = await RawTcpEcho.StartAsync(input.Data.Length);
        // The echoes run in the same blocks: what the transport alone costs for these bytes, same run, same drift.
        List<double>[] samples = await AlternatingBlocks.RunAsync(
            [
                async () =>
                {
                    using ModelOutput output = await session.RunAsync(remote, [input], cancellationToken);
                    device = output.Device;
                    agentCompute.Add(output.Timing.Compute.TotalMilliseconds);
                    remoteOut = output[0].Data.ToArray();
                },
                () =>
                {
                    localOut = local.Run(inputBytes, Shape);
                    return Task.CompletedTask;
                },
                () => session.EchoIntoAsync(input.Data, echoed, cancellationToken),
                () => raw.EchoAsync(input.Data, cancellationToken),
            ],
            plan,
            cancellationToken);
        (List<double> remoteMs, List<double> localMs) = (samples[0], samples[1]);
        var echoSamples = new Samples(samples[2]);
        var tcpSamples = new Samples(samples[3]);
        // The first entries are the warm-up calls'.
        var computeSamples = new Samples(agentCompute.Skip(agentCompute.Count - remoteMs.Count));

        var remoteSamples = new Samples(remoteMs);
        var localSamples = new Samples(localMs);
        double ratio = remoteSamples.Mean / localSamples.Mean;
        double added = remoteSamples.Mean - localSamples.Mean;
        double overEcho = added / echoSamples.Mean;
        double maxDiff = MaxAbsDifference(remoteOut, localOut);
        // The best ratio any remote call could reach here: in-process compute plus only moving the input there and back.
        double floor = (localSamples.Mean + echoSamples.Mean) / localSamples.Mean;
        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "mean remote / mean in-process; (remote - in-process) / tuned echo",
            Value = ratio,
            ValueText = Fmt.Invariant($"{ratio:0.000}x ({remoteSamples.Mean:0.00} / {localSamples.Mean:0.00} ms); added {added:0.00} ms = {overEcho:0.00}x the tuned echo's {echoSamples.Mean:0.00} ms (raw TCP {tcpSamples.Mean:0.00} ms)"),
            Target = Fmt.Invariant($"<= {TargetRatio:0.00}; <= {TargetOverEcho:0.0}x echo"),
            Outcome = BenchmarkResult.Judge(ratio <= TargetRatio && overEcho <= TargetOverEcho),
            Device = device,
            Details =
            [
                $"input {input} = {input.Data.Length} bytes; torch {torch.__version__}, intra-op threads {torch.get_num_threads()} (shared by agent and baseline)",
                $"remote    : {remoteSamples.Describe()}",
                $"in-process: {localSamples.Describe()}",
                Fmt.Invariant($"p50 ratio {remoteSamples.P50 / localSamples.P50:0.000}x; remote - local mean = {remoteSamples.Mean - localSamples.Mean:0.000} ms; outputs agree to max |diff| {maxDiff:0.0e0}"),
                $"tuned echo: {echoSamples.Describe()}",
                $"raw TCP   : {tcpSamples.Describe()}",
                Fmt.Invariant($"forward pass on the agent (its reported compute) mean {computeSamples.Mean:0.000} ms; remote - in-process = {added:0.000} ms = {overEcho:0.00}x the tuned echo of the same {input.Data.Length} bytes, {added / tcpSamples.Mean:0.00}x the raw TCP echo"),
                Fmt.Invariant($"transport floor (in-process mean + Echo mean) / in-process mean = {floor:0.000}x"),
            ],
            Numbers = new Dictionary<string, double>
            {
                ["ratio_mean"] = ratio,
                ["ratio_p50"] = remoteSamples.P50 / localSamples.P50,
                ["remote_mean_ms"] = remoteSamples.Mean,
                ["remote_p50_ms"] = remoteSamples.P50,
                ["local_mean_ms"] = localSamples.Mean,
                ["local_p50_ms"] = localSamples.P50,
                ["samples_each"] = remoteSamples.Count,
                ["max_abs_diff"] = maxDiff,
                ["agent_compute_mean_ms"] = computeSamples.Mean,
                ["echo_same_bytes_mean_ms"] = echoSamples.Mean,
                ["echo_same_bytes_p50_ms"] = echoSamples.P50,
                ["raw_tcp_same_bytes_mean_ms"] = tcpSamples.Mean,
                ["added_over_echo"] = overEcho,
                ["transport_floor_ratio"] = floor,
            },
        };
    }

    private static double MaxAbsDifference(byte[] a, byte[] b)
    {
        ReadOnlySpan<float> x = MemoryMarshal.Cast<byte, float>(a);
        ReadOnlySpan<float> y = MemoryMarshal.Cast<byte, float>(b);
        if (x.Length != y.Length || x.Length == 0)
        {
            throw new InvalidOperationException($"remote and in-process outputs differ in size ({x.Length} vs {y.Length} floats)");
        }

        double max = 0;
        for (int i = 0; i < x.Length; i++)
        {
            max = Math.Max(max, Math.Abs(x[i] - y[i]));
        }

        return max;
    }
}
