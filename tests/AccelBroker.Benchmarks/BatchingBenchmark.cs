using System.Diagnostics;
using AccelBroker.Client;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Dynamic batching under load: 16 concurrent clients call ResNet-18 (float32 [1, 3, 224, 224]) on one slice,
/// once loaded plainly and once with batching (up to 16 items, 5 ms delay). The two copies take turns in
/// alternating phases, so drift on a shared machine hits both alike. Throughput is completed requests per
/// second of the phase; latency is each request's end-to-end time.
/// </summary>
internal sealed class BatchingBenchmark : IBenchmark
{
    private const int Clients = 16;
    private const double TargetRatio = 1.0;
    private static readonly long[] Shape = [1, 3, 224, 224];
    private static readonly BatchingOptions Batching = new(MaxBatchSize: 16, MaxDelay: TimeSpan.FromMilliseconds(5));

    public string Name => "batching";

    public string Title => "ResNet-18, 16 concurrent clients: batched vs unbatched throughput";

    public async Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        string path = await context.LargeModels.RequireAsync("resnet18.pt", cancellationToken);
        AcceleratorSession session = context.Cluster.Session;
        RemoteModel plain = await session.LoadModelAsync(path, cancellationToken: cancellationToken);
        RemoteModel batched = await session.LoadModelAsync(path, new ModelLoadOptions { Alias = "batched", Batching = Batching }, cancellationToken);

        var random = new Random(16);
        float[] values = new float[Shape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        Tensor input = Tensor.FromArray(values, Shape);
        (int rounds, TimeSpan phase, int maxPerClient) = context.Quick ? (1, TimeSpan.FromSeconds(3), 200) : (3, TimeSpan.FromSeconds(10), 2_000);
        Console.WriteLine(Fmt.Invariant($"  {Clients} clients; {rounds} round(s) of a plain and a batched phase, {phase.TotalSeconds:0} s each (at most {maxPerClient} calls per client and phase), after a warm-up phase of each"));

        string device = "";
        await RunPhaseAsync(session, plain, input, TimeSpan.FromSeconds(2), 50, _ => { }, cancellationToken);
        await RunPhaseAsync(session, batched, input, TimeSpan.FromSeconds(2), 50, _ => { }, cancellationToken);

        var plainMs = new List<double>();
        var batchedMs = new List<double>();
        double plainSeconds = 0;
        double batchedSeconds = 0;
        for (int round = 0; round < rounds; round++)
        {
            // Swap the order every round.
            bool plainFirst = round % 2 == 0;
            foreach (bool useBatching in plainFirst ? new[] { false, true } : [true, false])
            {
                (List<double> latencies, double seconds) = await RunPhaseAsync(session, useBatching ? batched : plain, input, phase, maxPerClient, d => device = d, cancellationToken);
                (useBatching ? batchedMs : plainMs).AddRange(latencies);
                if (useBatching)
                {
                    batchedSeconds += seconds;
                }
                else
                {
                    plainSeconds += seconds;
                }
            }
        }

        // What the device itself gains from batches: the same model in this process, batch 1 against batch 16,
        // never while the agent runs (libtorch's intra-op pool is process-wide).
        double inProcessGain = MeasureInProcessGain(path, values, context.Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(6));

        var plainSamples = new Samples(plainMs);
        var batchedSamples = new Samples(batchedMs);
        double plainThroughput = plainSamples.Count / plainSeconds;
        double batchedThroughput = batchedSamples.Count / batchedSeconds;
        double ratio = batchedThroughput / plainThroughput;
        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "batched / unbatched requests per second",
            Value = ratio,
            ValueText = Fmt.Invariant($"{ratio:0.00}x ({batchedThroughput:0.0} / {plainThroughput:0.0} req/s)"),
            Target = Fmt.Invariant($"> {TargetRatio:0.00}"),
            Outcome = BenchmarkResult.Judge(ratio > TargetRatio),
            Device = device,
            Details =
            [
                Fmt.Invariant($"batching: up to {Batching.MaxBatchSize} items, {Batching.MaxDelay.TotalMilliseconds:0} ms delay; {Clients} clients, each with one call in flight"),
                $"unbatched latency: {plainSamples.Describe()}",
                $"batched latency  : {batchedSamples.Describe()}",
                Fmt.Invariant($"latency cost of batching: mean {batchedSamples.Mean / plainSamples.Mean:0.00}x, p90 {batchedSamples.P90 / plainSamples.P90:0.00}x"),
                Fmt.Invariant($"for comparison: in-process TorchSharp items/s at batch {Batching.MaxBatchSize} / at batch 1 = {inProcessGain:0.00}x (what the device gains from batches)"),
            ],
            Numbers = new Dictionary<string, double>
            {
                ["throughput_ratio"] = ratio,
                ["batched_rps"] = batchedThroughput,
                ["unbatched_rps"] = plainThroughput,
                ["batched_mean_ms"] = batchedSamples.Mean,
                ["batched_p50_ms"] = batchedSamples.P50,
                ["batched_p90_ms"] = batchedSamples.P90,
                ["unbatched_mean_ms"] = plainSamples.Mean,
                ["unbatched_p50_ms"] = plainSamples.P50,
                ["unbatched_p90_ms"] = plainSamples.P90,
                ["requests_batched"] = batchedSamples.Count,
                ["requests_unbatched"] = plainSamples.Count,
                ["in_process_batch_gain"] = inProcessGain,
            },
        };
    }

    private static double MeasureInProcessGain(string path, float[] one, TimeSpan each)
    {
        using var local = new InProcessModel(path);
        byte[] single = Tensor.FromArray(one, Shape).Data.ToArray();
        int rows = Batching.MaxBatchSize;
        byte[] batch = new byte[single.Length * rows];
        for (int i = 0; i < rows; i++)
        {
            single.CopyTo(batch, i * single.Length);
        }

        long[] batchShape = [rows, .. Shape[1..]];
        double ItemsPerSecond(byte[] input, long[] shape, int items)
        {
            local.Run(input, shape);
            var clock = Stopwatch.StartNew();
            int done = 0;
            while (clock.Elapsed < each && done < 10_000)
            {
                local.Run(input, shape);
                done += items;
            }

            return done / clock.Elapsed.TotalSeconds;
        }

        double alone = ItemsPerSecond(single, Shape, 1);
        return ItemsPerSecond(batch, batchShape, rows) / alone;
    }

    // Every client keeps one call in flight until the phase ends or it made its calls; the phase lasts until the last returns.
    private static async Task<(List<double> Latencies, double Seconds)> RunPhaseAsync(
        AcceleratorSession session, RemoteModel model, Tensor input, TimeSpan duration, int maxPerClient, Action<string> device, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        List<double>[] perClient = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            var latencies = new List<double>();
            while (clock.Elapsed < duration && latencies.Count < maxPerClient)
            {
                long started = Stopwatch.GetTimestamp();
                ModelOutput output = await session.RunAsync(model, [input], cancellationToken);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                device(output.Device);
            }

            return latencies;
        }, cancellationToken)));
        return ([.. perClient.SelectMany(l => l)], clock.Elapsed.TotalSeconds);
    }
}
