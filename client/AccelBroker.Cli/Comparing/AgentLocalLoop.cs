using AccelBroker.Client;

namespace AccelBroker.Cli.Comparing;

/// <summary>
/// A standalone GPU instance measured by its agent's BenchmarkLocal (no network between timer and model). The RPC
/// runs its iterations one at a time, so N callers are N concurrent calls, each given its share of the runs; each
/// call's runs complete back to back, and the calls' completion times are merged.
/// </summary>
internal static class AgentLocalLoop
{
    public static async Task<(ClosedLoopResult Measured, string Device)> MeasureAsync(AgentClient agent, CompareWorkload work, CancellationToken cancellationToken)
    {
        HeldModel model = await agent.EnsureModelHeldAsync(work.ModelPath, cancellationToken);
        int callers = Math.Min(work.Concurrency, work.Runs);
        Task<LocalBenchmarkResult>[] calls = [.. Enumerable.Range(0, callers).Select(c => agent.BenchmarkLocalAsync(
            model,
            work.Inputs,
            new LocalBenchmarkOptions { Precision = work.Precision, Iterations = (work.Runs / callers) + (c < work.Runs % callers ? 1 : 0), Warmup = work.Warmup },
            cancellationToken))];
        LocalBenchmarkResult[] results = await Task.WhenAll(calls);

        var runs = new List<(double CompletedAt, double LatencyMs)>();
        foreach (LocalBenchmarkResult result in results)
        {
            double at = 0;
            foreach (double seconds in result.LatenciesSeconds)
            {
                at += seconds;
                runs.Add((at, seconds * 1000));
            }
        }

        runs.Sort();
        return (new ClosedLoopResult(work.Concurrency, [.. runs.Select(r => r.LatencyMs)], [.. runs.Select(r => r.CompletedAt)], runs[^1].CompletedAt), results[0].Device);
    }
}
