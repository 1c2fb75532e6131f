namespace AccelBroker.Benchmarks;

/// <summary>
/// Issue "Nothing lost when a machine dies": kill -9 of the agent holding an accelerator while 16 sessions call it with
/// 30 s deadlines (a second agent has room), with the broker's default settings (heartbeat 2 s, failover after 10 s) and
/// with the fastest documented ones (heartbeat 0.5 s, failover after 2 s). Recovery is the time from the kill to the first
/// right answer from the other agent, as a client saw it; every failed or wrong call is counted.
/// </summary>
internal sealed class FailoverBenchmark : IBenchmark
{
    private static readonly TimeSpan DefaultTarget = TimeSpan.FromSeconds(12);
    private static readonly TimeSpan FastTarget = TimeSpan.FromSeconds(4);

    public string Name => "failover";

    public string Title => "kill -9 of an agent under 16-client load: time to the first right answer from the other agent; failed calls (30 s deadlines)";

    public async Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        static Task Kill(AccelBroker.Client.FleetClient _, AccelBroker.Tests.Processes.HostProcess holder) => holder.KillAsync();
        FaultRun.Outcome defaults = await FaultRun.RunAsync(context.Paths, [], Kill, cancellationToken);
        FaultRun.Outcome fast = await FaultRun.RunAsync(context.Paths, ["--heartbeat-interval", "0.5", "--failover-after", "2"], Kill, cancellationToken);
        long failed = defaults.Failures.Count + fast.Failures.Count;
        long wrong = defaults.Wrong + fast.Wrong;
        bool met = defaults.Recovery <= DefaultTarget && fast.Recovery <= FastTarget && failed == 0 && wrong == 0;
        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "recovery after kill -9 (defaults / fastest settings)",
            Value = defaults.Recovery?.TotalSeconds,
            ValueText = Fmt.Invariant($"{defaults.Recovery?.TotalSeconds:0.00} s / {fast.Recovery?.TotalSeconds:0.00} s, {failed} failed, {wrong} wrong"),
            Target = Fmt.Invariant($"<= {DefaultTarget.TotalSeconds:0} s / <= {FastTarget.TotalSeconds:0} s, 0 failed"),
            Outcome = BenchmarkResult.Judge(met),
            Device = "cpu",
            Details =
            [
                Fmt.Invariant($"defaults (heartbeat 2 s, unhealthy after 6 s, failover after 10 s): recovery {defaults.Recovery?.TotalSeconds:0.00} s, {defaults.Right} right, {defaults.Failures.Count} failed, {defaults.Wrong} wrong"),
                Fmt.Invariant($"fastest (heartbeat 0.5 s, unhealthy after 1.5 s, failover after 2 s): recovery {fast.Recovery?.TotalSeconds:0.00} s, {fast.Right} right, {fast.Failures.Count} failed, {fast.Wrong} wrong"),
                .. defaults.Failures.Concat(fast.Failures).Take(3).Select(f => "failure: " + f),
            ],
            Numbers = new Dictionary<string, double>
            {
                ["recovery_default_s"] = defaults.Recovery?.TotalSeconds ?? double.NaN,
                ["recovery_fast_s"] = fast.Recovery?.TotalSeconds ?? double.NaN,
                ["failed_calls"] = failed,
                ["wrong_outputs"] = wrong,
            },
        };
    }
}
