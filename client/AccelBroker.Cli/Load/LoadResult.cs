namespace AccelBroker.Cli.Load;

/// <summary>
/// What a <see cref="LoadEngine"/> run measured: every completed call in completion order, its stability windows,
/// whether the last of them were stable, and what the generator itself cost.
/// </summary>
/// <param name="Records">Every completed call, failures included, in completion order; calls cut off by an interruption are not in it.</param>
/// <param name="Measured">From the start of the run to the last completion: the denominator of throughput.</param>
/// <param name="Arrivals">Calls the stop rule let through: issued calls plus, in an open loop, arrivals not issued.</param>
/// <param name="NotIssued">Open loop arrivals dropped because <see cref="LoadMode.Open.MaxOutstanding"/> calls were in flight.</param>
/// <param name="StoppedBecause">One of the <c>Stop*</c> constants of <see cref="LoadEngine"/>.</param>
internal sealed record LoadResult(
    LoadMode Mode,
    StopRule Stop,
    IReadOnlyList<RequestRecord> Records,
    IReadOnlyList<LoadWindow> Windows,
    bool Stable,
    TimeSpan Measured,
    int Arrivals,
    int NotIssued,
    string StoppedBecause,
    GeneratorCpu Cpu)
{
    public bool Interrupted => StoppedBecause == LoadEngine.StopInterrupted;
}
