namespace AccelBroker.Cli.Load;

/// <summary>
/// When a <see cref="LoadEngine"/> stops issuing calls: after <see cref="Requests"/> calls (arrivals, in an open loop),
/// after <see cref="Duration"/>, or, with <see cref="UntilStable"/>, as soon as the windows are stable or
/// <see cref="MaxWindows"/> windows are complete. Whichever comes first; <see cref="TimeLimit"/> bounds every run.
/// </summary>
internal sealed record StopRule(int? Requests, TimeSpan? Duration, WindowRule Windows, bool UntilStable = false, int MaxWindows = 10)
{
    /// <summary>Bounds a count-only run whose calls never complete quickly enough.</summary>
    public static readonly TimeSpan CountTimeLimit = TimeSpan.FromHours(1);

    /// <summary>Bounds a run until stable whose windows stretch because calls are slow (a window waits for its 50 calls).</summary>
    public static readonly TimeSpan StableTimeLimit = TimeSpan.FromMinutes(10);

    public TimeSpan TimeLimit => Duration ?? (UntilStable ? Max(Windows.Length * MaxWindows * 4, StableTimeLimit) : CountTimeLimit);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    public static StopRule Count(int requests, WindowRule windows) => new(requests, null, windows);

    public static StopRule For(TimeSpan duration, WindowRule windows) => new(null, duration, windows);

    public string Describe() =>
        (Requests, Duration, UntilStable) switch
        {
            (_, _, true) => FormattableString.Invariant($"until stable, at most {MaxWindows} windows") + (Duration is { } d ? FormattableString.Invariant($" or {d.TotalSeconds:0.###} s") : ""),
            ({ } n, _, _) => $"{n} requests",
            (_, { } d, _) => FormattableString.Invariant($"{d.TotalSeconds:0.###} s"),
            _ => "unbounded",
        };
}
