namespace AccelBroker.Benchmarks;

/// <summary>
/// How two measurements alternate: warm-up calls of each (discarded), then blocks of calls, with a time
/// budget after which no new block starts and the current one is cut short.
/// </summary>
internal sealed record BlockPlan(int WarmupEach, int Blocks, int PerBlock, TimeSpan Budget)
{
    public string Describe() =>
        Fmt.Invariant($"{WarmupEach} warm-up calls each (discarded), then {Blocks} alternating blocks x {PerBlock} calls each (order swapped every block), budget {Budget.TotalSeconds:0} s");
}
