using System.Diagnostics;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Measures operations in alternating blocks (A B, B A, A B, ...), so slow drifts of the machine
/// (frequency, other load, GC) fall on all equally. They never run at the same time.
/// </summary>
internal static class AlternatingBlocks
{
    public static async Task<(List<double> A, List<double> B)> RunAsync(Func<Task> a, Func<Task> b, BlockPlan plan, CancellationToken cancellationToken)
    {
        List<double>[] samples = await RunAsync([a, b], plan, cancellationToken);
        return (samples[0], samples[1]);
    }

    /// <summary>
    /// The same for any number of operations: each block runs them all, in an order reversed every block (A B C,
    /// C B A, ...). The first of a block stops at the budget and the others then run as many calls, so all stay balanced.
    /// </summary>
    public static async Task<List<double>[]> RunAsync(IReadOnlyList<Func<Task>> operations, BlockPlan plan, CancellationToken cancellationToken)
    {
        for (int i = 0; i < plan.WarmupEach; i++)
        {
            foreach (Func<Task> operation in operations)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await operation();
            }
        }

        List<double>[] samples = [.. operations.Select(_ => new List<double>(plan.Blocks * plan.PerBlock))];
        var clock = Stopwatch.StartNew();
        for (int block = 0; block < plan.Blocks && clock.Elapsed < plan.Budget; block++)
        {
            int[] order = [.. Enumerable.Range(0, operations.Count)];
            if (block % 2 == 1)
            {
                Array.Reverse(order);
            }

            int done = await MeasureAsync(operations[order[0]], samples[order[0]], plan.PerBlock, clock, plan.Budget, cancellationToken);
            foreach (int next in order.Skip(1))
            {
                await MeasureAsync(operations[next], samples[next], done, clock, budget: null, cancellationToken);
            }
        }

        return samples;
    }

    /// <summary>Times <paramref name="operation"/> up to <paramref name="count"/> times; returns how many ran.</summary>
    public static async Task<int> MeasureAsync(Func<Task> operation, List<double> samples, int count, Stopwatch clock, TimeSpan? budget, CancellationToken cancellationToken)
    {
        int i = 0;
        for (; i < count && (budget is null || clock.Elapsed < budget); i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long started = Stopwatch.GetTimestamp();
            await operation();
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return i;
    }
}
