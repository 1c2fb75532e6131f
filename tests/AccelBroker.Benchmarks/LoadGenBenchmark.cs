using AccelBroker.Cli.Load;
using AccelBroker.Client;

namespace AccelBroker.Benchmarks;

/// <summary>
/// The load generator is not the bottleneck: <c>accel bench</c>'s engine alone against the agent's Echo RPC at 16 and
/// 64 callers (closed loop, one shared session and so one channel, as bench drives a model), next to the same engine
/// calling a delegate that does nothing (the bare in-process ceiling of the engine's own bookkeeping), in one run.
/// Reports calls per second and the generator's CPU; the target is that the bare engine outruns Echo by 10x or more,
/// so its ceiling sits far above anything an agent answers.
/// </summary>
internal sealed class LoadGenBenchmark : IBenchmark
{
    private const double TargetHeadroom = 10;
    private static readonly int[] Callers = [16, 64];

    public string Name => "loadgen";

    public string Title => "load engine alone: calls/s against Echo at 16 and 64 callers vs a no-op delegate (same run)";

    public async Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        AcceleratorSession session = context.Cluster.Session;
        TimeSpan each = context.Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(10);
        var windows = new WindowRule(TimeSpan.FromSeconds(1));
        ReadOnlyMemory<byte> payload = new byte[64];
        var details = new List<string> { Fmt.Invariant($"each measurement: {each.TotalSeconds:0} s, closed loop; Echo of {payload.Length} bytes over one shared session") };
        var numbers = new Dictionary<string, double>();
        double worstHeadroom = double.MaxValue;
        foreach (int callers in Callers)
        {
            _ = await session.EchoAsync(payload, cancellationToken);
            LoadResult echo = await LoadEngine.System.RunAsync(ct => session.EchoAsync(payload, ct), new LoadMode.Closed(callers), StopRule.For(each, windows), null, cancellationToken);
            LoadResult bare = await LoadEngine.System.RunAsync(_ => Task.CompletedTask, new LoadMode.Closed(callers), StopRule.For(each, windows), null, cancellationToken);
            var echoStats = LoadStatistics.Of(echo);
            var bareStats = LoadStatistics.Of(bare);
            double headroom = bareStats.RequestsPerSecond / echoStats.RequestsPerSecond;
            worstHeadroom = Math.Min(worstHeadroom, headroom);
            details.Add(Fmt.Invariant($"{callers} callers, Echo   : {echoStats.RequestsPerSecond:0} calls/s, P50 {echoStats.LatencyMs?.P50Ms:0.000} ms, P99 {echoStats.LatencyMs?.P99Ms:0.000} ms, failures {echoStats.Requests - echoStats.Succeeded}; {echo.Cpu.Describe()}"));
            details.Add(Fmt.Invariant($"{callers} callers, no-op  : {bareStats.RequestsPerSecond:0} calls/s; {bare.Cpu.Describe()}"));
            numbers[$"echo_calls_per_second_{callers}"] = echoStats.RequestsPerSecond;
            numbers[$"noop_calls_per_second_{callers}"] = bareStats.RequestsPerSecond;
            numbers[$"echo_process_cores_{callers}"] = echo.Cpu.ProcessCores;
            numbers[$"noop_process_cores_{callers}"] = bare.Cpu.ProcessCores;
            if (echo.Cpu.MachineBusyShare is { } busy)
            {
                numbers[$"echo_machine_busy_{callers}"] = busy;
            }
        }

        details.Add("the agent runs in this process on loopback: Echo's CPU figures include the agent's side of every call");
        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "no-op calls/s / Echo calls/s (lower of 16 and 64 callers)",
            Value = worstHeadroom,
            ValueText = Fmt.Invariant($"{worstHeadroom:0.0}x"),
            Target = Fmt.Invariant($">= {TargetHeadroom:0}x"),
            Outcome = BenchmarkResult.Judge(worstHeadroom >= TargetHeadroom),
            Device = session.Accelerator.Device,
            Details = details,
            Numbers = numbers,
        };
    }
}
