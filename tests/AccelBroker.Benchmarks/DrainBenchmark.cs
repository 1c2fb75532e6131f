namespace AccelBroker.Benchmarks;

/// <summary>
/// Issue "Nothing lost when a machine dies": <c>accel drain</c> of the agent holding an accelerator while 16 sessions call
/// it with 30 s deadlines; requests failed during the drain (target 0), and how long the drain took.
/// </summary>
internal sealed class DrainBenchmark : IBenchmark
{
    public string Name => "drain";

    public string Title => "drain of an agent under 16-client load: failed requests (30 s deadlines)";

    public async Task<BenchmarkResult> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        int moved = 0;
        FaultRun.Outcome outcome = await FaultRun.RunAsync(
            context.Paths,
            [],
            async (fleet, holder) => moved = (await fleet.DrainAgentAsync(holder.Name, cancellationToken)).SlicesMoved,
            cancellationToken);
        long failed = outcome.Failures.Count;
        return new BenchmarkResult
        {
            Name = Name,
            Title = Title,
            Metric = "failed requests during a drain",
            Value = failed,
            ValueText = Fmt.Invariant($"{failed} failed, {outcome.Wrong} wrong of {outcome.Right + failed + outcome.Wrong}"),
            Target = "0 failed",
            Outcome = BenchmarkResult.Judge(failed == 0 && outcome.Wrong == 0 && moved == 1),
            Device = "cpu",
            Details =
            [
                Fmt.Invariant($"drain call took {outcome.FaultDuration.TotalSeconds:0.00} s (models copied and loaded on the new agent first); first right answer from the new agent {outcome.Recovery?.TotalSeconds:0.00} s after the drain began; {moved} slice moved"),
                .. outcome.Failures.Take(3).Select(f => "failure: " + f),
            ],
            Numbers = new Dictionary<string, double>
            {
                ["failed_requests"] = failed,
                ["wrong_outputs"] = outcome.Wrong,
                ["drain_s"] = outcome.FaultDuration.TotalSeconds,
            },
        };
    }
}
