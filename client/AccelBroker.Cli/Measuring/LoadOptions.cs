using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;

namespace AccelBroker.Cli.Measuring;

/// <summary>
/// The load options of <c>accel bench</c> (<c>--concurrency</c>, <c>--rate</c>, <c>--duration</c>, the windows):
/// how many callers or how fast, and when to stop. <c>accel sweep</c> shares the window and duration ones.
/// </summary>
internal sealed class LoadOptions
{
    public const int MaxCallers = 1024;
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(24);

    public Option<int?> Concurrency { get; } = new("--concurrency") { Description = "Closed loop: this many callers, one call in flight each (default 1)" };

    public Option<double?> Rate { get; } = new("--rate") { Description = "Open loop: Poisson arrivals at this many requests per second, whatever the calls in flight (instead of --concurrency)" };

    public Option<int> MaxOutstanding { get; } = new("--max-outstanding") { Description = "Open loop: most calls in flight; arrivals past it are counted as not issued", DefaultValueFactory = _ => 256 };

    public Option<int> Seed { get; } = new("--seed") { Description = "Open loop: seed of the Poisson arrivals, so a schedule can be repeated", DefaultValueFactory = _ => 1 };

    public Option<string?> Duration { get; } = new("--duration") { Description = "Measure for this long (e.g. 30s, 2m) instead of -n requests" };

    public Option<string> Window { get; } = new("--window") { Description = "Stability window: this long and at least 50 requests (e.g. 5s)", DefaultValueFactory = _ => "5s" };

    public Option<int> MaxWindows { get; } = new("--max-windows") { Description = "With --until-stable: give up after this many windows", DefaultValueFactory = _ => 10 };

    public Option<bool> UntilStable { get; } = new("--until-stable") { Description = "Stop once the last 3 windows agree within 10 % on throughput and P95 (or after --max-windows; --duration caps it)" };

    public void AddTo(Command command, bool modes = true)
    {
        if (modes)
        {
            command.Options.Add(Concurrency);
            command.Options.Add(Rate);
            command.Options.Add(MaxOutstanding);
            command.Options.Add(Seed);
        }

        command.Options.Add(Duration);
        command.Options.Add(Window);
        command.Options.Add(MaxWindows);
        command.Options.Add(UntilStable);
    }

    public LoadMode Mode(ParseResult parse)
    {
        int? callers = parse.GetValue(Concurrency);
        double? rate = parse.GetValue(Rate);
        if (callers is not null && rate is not null)
        {
            throw new CliException("give either --concurrency (closed loop) or --rate (open loop), not both");
        }

        if (rate is { } r)
        {
            int outstanding = parse.GetValue(MaxOutstanding);
            return r is <= 0 or > 1_000_000 || !double.IsFinite(r)
                ? throw new CliException($"--rate must be between 0 and 1000000 requests per second, got {r}")
                : outstanding is < 1 or > 100_000
                    ? throw new CliException($"--max-outstanding must be between 1 and 100000, got {outstanding}")
                    : new LoadMode.Open(r, outstanding, parse.GetValue(Seed));
        }

        return new LoadMode.Closed(CheckCallers(callers ?? 1));
    }

    public static int CheckCallers(int callers) =>
        callers is < 1 or > MaxCallers ? throw new CliException($"--concurrency must be between 1 and {MaxCallers}, got {callers}") : callers;

    /// <summary>The stop rule: <paramref name="runs"/> requests, or <c>--duration</c>, or until stable.</summary>
    public StopRule Stop(ParseResult parse, int? runs)
    {
        TimeSpan window = DurationText.Parse("--window", parse.GetValue(Window)!, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        int maxWindows = parse.GetValue(MaxWindows);
        if (maxWindows is < 3 or > 1000)
        {
            throw new CliException($"--max-windows must be between 3 and 1000, got {maxWindows}");
        }

        TimeSpan? duration = parse.GetValue(Duration) is { } text ? DurationText.Parse("--duration", text, TimeSpan.FromMilliseconds(10), MaxDuration) : null;
        bool untilStable = parse.GetValue(UntilStable);
        return new StopRule(untilStable || duration is not null ? null : runs, duration, new WindowRule(window), untilStable, maxWindows);
    }
}
