using System.Diagnostics;
using AccelBroker.Client;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Bulk tensor throughput: a 64 MiB float32 tensor through identity.pt (<c>x.clone()</c>) and back, on the
/// streaming call. MB/s is tensor bytes over the round-trip time (1 MB = 10^6 bytes), median of the runs.
/// </summary>
internal sealed class Tensor64Benchmark : IBenchmark
{
    private const double TargetMegabytesPerSecond = 1000;
    private static readonly long[] Shape = [16, 1024, 1024];

    public string Name => "tensor64";

    public string Title => "64 MiB float32 round trip through identity.pt (x.clone())";

    public async Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        AcceleratorSession session = context.Cluster.Session;
        RemoteModel model = await session.LoadModelAsync(context.Paths.Fixture("identity.pt"), cancellationToken: cancellationToken);
        float[] values = new float[Shape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = i * 0.25f;
        }

        Tensor input = Tensor.FromArray(values, Shape);
        long bytes = input.Data.Length;

        int warmup = context.Quick ? 1 : 3;
        int runs = context.Quick ? 3 : 10;
        TimeSpan budget = TimeSpan.FromSeconds(context.Quick ? 15 : 120);
        string device = "";
        var agentMs = new List<(double Decode, double Compute, double Encode)>();
        for (int i = 0; i < warmup; i++)
        {
            ModelOutput output = await session.RunAsync(model, [input], cancellationToken);
            if (i == 0 && !output[0].Data.Span.SequenceEqual(input.Data.Span))
            {
                throw new InvalidOperationException("identity.pt returned different bytes than it was sent");
            }
        }

        var samples = new List<double>(runs);
        var clock = Stopwatch.StartNew();
        await AlternatingBlocks.MeasureAsync(
            async () =>
            {
                ModelOutput output = await session.RunAsync(model, [input], cancellationToken);
                device = output.Device;
                agentMs.Add((output.Timing.Decode.TotalMilliseconds, output.Timing.Compute.TotalMilliseconds, output.Timing.Encode.TotalMilliseconds));
            },
            samples,
            runs,
            clock,
            budget,
            cancellationToken);

        // Not part of the target: the same bytes through a bare gRPC streaming echo, in the same chunks, as the
        // ceiling this transport sets on this machine.
        var echoMs = new List<double>();
        await AlternatingBlocks.MeasureAsync(() => session.EchoStreamAsync(input.Data, cancellationToken), [], 1, Stopwatch.StartNew(), null, cancellationToken);
        await AlternatingBlocks.MeasureAsync(() => session.EchoStreamAsync(input.Data, cancellationToken), echoMs, runs, Stopwatch.StartNew(), budget, cancellationToken);
        var echo = new Samples(echoMs);

        var round = new Samples(samples);
        double megabytes = bytes / 1e6;
        double tensorRate = megabytes / (round.P50 / 1000);
        double wireRate = 2 * megabytes / (round.P50 / 1000);
        double echoRate = megabytes / (echo.P50 / 1000);
        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "tensor MB / median round trip",
            Value = tensorRate,
            ValueText = Fmt.Invariant($"{tensorRate:0} MB/s ({round.P50:0.0} ms per round trip)"),
            Target = Fmt.Invariant($">= {TargetMegabytesPerSecond:0} MB/s"),
            Outcome = BenchmarkResult.Judge(tensorRate >= TargetMegabytesPerSecond),
            Device = device,
            Details =
            [
                Fmt.Invariant($"tensor {input} = {bytes} bytes ({megabytes:0.0} MB) each way; {warmup} warm-up run(s) discarded, output checked equal once"),
                $"round trip: {round.Describe()}",
                Fmt.Invariant($"tensor bytes / median time: {tensorRate:0} MB/s; (in+out) bytes / median time: {wireRate:0} MB/s"),
                Fmt.Invariant($"bare gRPC streaming echo of the same bytes: {echo.Describe()}; {echoRate:0} MB/s, the ceiling for this transport here; Run / echo median = {round.P50 / echo.P50:0.00}x"),
                Fmt.Invariant($"agent-side medians: decode {Median(agentMs.Select(t => t.Decode)):0.0} ms, compute {Median(agentMs.Select(t => t.Compute)):0.0} ms, encode {Median(agentMs.Select(t => t.Encode)):0.0} ms"),
            ],
            Numbers = new Dictionary<string, double>
            {
                ["tensor_mb_per_s"] = tensorRate,
                ["in_plus_out_mb_per_s"] = wireRate,
                ["round_trip_p50_ms"] = round.P50,
                ["round_trip_mean_ms"] = round.Mean,
                ["round_trip_min_ms"] = round.Min,
                ["echo_stream_p50_ms"] = echo.P50,
                ["echo_stream_mb_per_s"] = echoRate,
                ["tensor_bytes"] = bytes,
                ["runs"] = round.Count,
            },
        };
    }

    private static double Median(IEnumerable<double> values) => new Samples(values).P50;
}
