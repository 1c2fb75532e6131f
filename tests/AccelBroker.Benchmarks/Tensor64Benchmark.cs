using AccelBroker.Client;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Bulk tensor throughput: a 64 MiB float32 tensor through identity.pt (<c>x.clone()</c>) and back, on the
/// streaming call, against the same bytes through the agent's streaming echo (same channel, marshalling, pools and
/// Kestrel settings, received into a reused buffer as the run's disposed outputs are) and through a raw TCP echo,
/// in alternating blocks. MB/s is tensor bytes over the median round trip (1 MB = 10^6 bytes).
/// </summary>
internal sealed class Tensor64Benchmark : IBenchmark
{
    private const double TargetMegabytesPerSecond = 350;
    private const double TargetOfEcho = 0.80;
    private const long GrowthLimitBytes = 256L * 1024 * 1024;
    private static readonly long[] Shape = [16, 1024, 1024];

    public string Name => "tensor64";

    public string Title => "64 MiB float32 round trip through identity.pt (x.clone()) vs tuned gRPC echo and raw TCP";

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
        int bytes = input.Data.Length;
        byte[] echoed = GC.AllocateUninitializedArray<byte>(bytes);
        await using RawTcpEcho raw = await RawTcpEcho.StartAsync(bytes);
        string device = "";
        var agentMs = new List<(double Decode, double Compute, double Encode)>();

        using (ModelOutput first = await session.RunAsync(model, [input], cancellationToken))
        {
            if (!first[0].Data.Span.SequenceEqual(input.Data.Span))
            {
                throw new InvalidOperationException("identity.pt returned different bytes than it was sent");
            }
        }

        long residentAfterFirst = ProcessTreeMemory.ResidentBytes(Environment.ProcessId);
        BlockPlan plan = context.Quick
            ? new BlockPlan(WarmupEach: 1, Blocks: 2, PerBlock: 3, Budget: TimeSpan.FromSeconds(20))
            : new BlockPlan(WarmupEach: 3, Blocks: 6, PerBlock: 5, Budget: TimeSpan.FromSeconds(120));
        Console.WriteLine($"  {plan.Describe()}");
        List<double>[] samples = await AlternatingBlocks.RunAsync(
            [
                async () =>
                {
                    using ModelOutput output = await session.RunAsync(model, [input], cancellationToken);
                    device = output.Device;
                    agentMs.Add((output.Timing.Decode.TotalMilliseconds, output.Timing.Compute.TotalMilliseconds, output.Timing.Encode.TotalMilliseconds));
                },
                () => session.EchoStreamIntoAsync(input.Data, echoed, cancellationToken),
                () => raw.EchoAsync(input.Data, cancellationToken),
            ],
            plan,
            cancellationToken);

        // Faults and collections of runs alone, then of echoes alone.
        int counted = context.Quick ? 3 : 10;
        var runCounter = FaultAndGcCounter.Start();
        for (int i = 0; i < counted; i++)
        {
            using ModelOutput output = await session.RunAsync(model, [input], cancellationToken);
        }

        var runFaults = runCounter.PerCall(counted);
        var echoCounter = FaultAndGcCounter.Start();
        for (int i = 0; i < counted; i++)
        {
            await session.EchoStreamIntoAsync(input.Data, echoed, cancellationToken);
        }

        var echoFaults = echoCounter.PerCall(counted);

        // Pools bounded: resident memory after many round trips against after the first.
        int more = context.Quick ? 20 : 100;
        for (int i = 0; i < more - counted - samples[0].Count - plan.WarmupEach - 1; i++)
        {
            using ModelOutput output = await session.RunAsync(model, [input], cancellationToken);
        }

        int roundTrips = Math.Max(more, counted + samples[0].Count + plan.WarmupEach + 1);
        long residentAfterMany = ProcessTreeMemory.ResidentBytes(Environment.ProcessId);
        long growth = residentAfterMany - residentAfterFirst;

        var round = new Samples(samples[0]);
        var echo = new Samples(samples[1]);
        var tcp = new Samples(samples[2]);
        double megabytes = bytes / 1e6;
        double tensorRate = megabytes / (round.P50 / 1000);
        double echoRate = megabytes / (echo.P50 / 1000);
        double tcpRate = megabytes / (tcp.P50 / 1000);
        double ofEcho = tensorRate / echoRate;
        bool met = tensorRate >= TargetMegabytesPerSecond && ofEcho >= TargetOfEcho && growth <= GrowthLimitBytes;
        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "tensor MB / median round trip; share of the tuned echo's rate; RSS growth",
            Value = tensorRate,
            ValueText = Fmt.Invariant($"{tensorRate:0} MB/s ({round.P50:0.0} ms), {ofEcho:P0} of the tuned echo's {echoRate:0} MB/s; raw TCP {tcpRate:0} MB/s; RSS +{growth / 1048576.0:0} MiB after {roundTrips} round trips"),
            Target = Fmt.Invariant($">= {TargetMegabytesPerSecond:0} MB/s and >= {TargetOfEcho:P0} of the echo; RSS growth <= {GrowthLimitBytes / 1048576} MiB"),
            Outcome = BenchmarkResult.Judge(met),
            Device = device,
            Details =
            [
                Fmt.Invariant($"tensor {input} = {bytes} bytes ({megabytes:0.0} MB) each way; output checked equal once; outputs disposed after each run"),
                $"Run (identity.pt)        : {round.Describe()}",
                $"tuned gRPC streaming echo: {echo.Describe()}",
                $"raw TCP echo             : {tcp.Describe()}",
                Fmt.Invariant($"MB/s: Run {tensorRate:0}, tuned echo {echoRate:0}, raw TCP {tcpRate:0}; Run / echo time {round.P50 / echo.P50:0.00}x, echo / raw TCP time {echo.P50 / tcp.P50:0.00}x"),
                Fmt.Invariant($"agent-side medians: decode {Median(agentMs.Select(t => t.Decode)):0.0} ms, compute {Median(agentMs.Select(t => t.Compute)):0.0} ms, encode {Median(agentMs.Select(t => t.Encode)):0.0} ms"),
                $"Run  {runFaults.Describe()} ({counted} calls)",
                $"Echo {echoFaults.Describe()} ({counted} calls)",
                Fmt.Invariant($"resident memory of this process tree (client, broker, agent and its workers): {residentAfterFirst / 1048576.0:0} MiB after the first round trip, {residentAfterMany / 1048576.0:0} MiB after {roundTrips}"),
            ],
            Numbers = new Dictionary<string, double>
            {
                ["tensor_mb_per_s"] = tensorRate,
                ["echo_stream_mb_per_s"] = echoRate,
                ["raw_tcp_mb_per_s"] = tcpRate,
                ["share_of_echo"] = ofEcho,
                ["round_trip_p50_ms"] = round.P50,
                ["round_trip_mean_ms"] = round.Mean,
                ["echo_stream_p50_ms"] = echo.P50,
                ["raw_tcp_p50_ms"] = tcp.P50,
                ["run_faults_per_call"] = runFaults.Faults,
                ["run_worker_faults_per_call"] = runFaults.WorkerFaults,
                ["run_gen0_per_call"] = runFaults.Gen0,
                ["run_gen2_per_call"] = runFaults.Gen2,
                ["echo_faults_per_call"] = echoFaults.Faults,
                ["run_allocated_mb_per_call"] = runFaults.AllocatedBytes / 1e6,
                ["echo_allocated_mb_per_call"] = echoFaults.AllocatedBytes / 1e6,
                ["rss_growth_mib"] = growth / 1048576.0,
                ["tensor_bytes"] = bytes,
                ["runs"] = round.Count,
            },
        };
    }

    private static double Median(IEnumerable<double> values) => new Samples(values).P50;
}
