using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using Spectre.Console;

namespace AccelBroker.Cli.LoadTesting;

/// <summary><c>accel loadtest</c>'s human output: one row per stage, then seed 003's summary and what was unloaded.</summary>
internal static class LoadTestTable
{
    public static void Print(LoadTestReport r)
    {
        Console.Out.WriteLine($"loadtest on {r.Host} eia:{r.Ordinal} ({r.SliceType}, {r.AcceleratorId}), {r.Precision}, inputs {string.Join(", ", r.Inputs.Select(i => $"{i.Dtype} [{string.Join(", ", i.Shape)}]"))}");
        string think = r.ThinkTimeMs is null ? "no think time" : r.ThinkTimeMs.MinMs == r.ThinkTimeMs.MaxMs ? Invariant($"think time {r.ThinkTimeMs.MinMs} ms") : Invariant($"think time {r.ThinkTimeMs.MinMs}-{r.ThinkTimeMs.MaxMs} ms");
        Console.Out.WriteLine(Invariant($"{r.Models.Count} models ({string.Join(", ", r.Models.GroupBy(m => m.File).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} x{g.Count()}"))}), chosen at random (seed {r.Seed}); {think}; shape {r.Shape}: {r.ShapeStages.Count} stages, {r.ShapeStages[^1].Duration:0.###} s"));
        var table = new Table().AddColumns("stage", "ends (s)", "users", "req/s", "P50 ms", "P95 ms", "P99 ms", "ok", "failed");
        foreach (StageResult s in r.Stages)
        {
            string failed = s.FailureCount == 0 ? "0" : string.Join(", ", s.Failures.Select(f => Invariant($"{f.Value} {f.Key}")));
            table.AddRow(
                Invariant($"{s.Stage}{(s.Complete ? "" : " (cut)")}"),
                Invariant($"{s.EndsAtS:0.###}"),
                s.UsersAtEnd == s.MaxUsers ? Invariant($"{s.UsersAtEnd}") : Invariant($"{s.UsersAtEnd} (max {s.MaxUsers})"),
                Invariant($"{s.RequestsPerSecond:0.0}"),
                Ms(s.LatencyMs?.P50Ms),
                Ms(s.LatencyMs?.P95Ms),
                Ms(s.LatencyMs?.P99Ms),
                Invariant($"{s.Successes}"),
                failed);
        }

        AnsiConsole.Write(table);
        Console.Out.WriteLine("requests are counted in the stage they completed in; latency percentiles (nearest rank) are over the successful ones");
        LoadTestSummary m = r.Summary;
        Console.Out.WriteLine(m.MaxRequestsPerSecondWithoutError is { } best
            ? Invariant($"max requests/s without error: {best:0.0} (stage {m.StageOfMaxRequestsPerSecond})")
            : "max requests/s without error: none (every stage had a failure)");
        Console.Out.WriteLine(m.FirstFailure is { } first
            ? Invariant($"max concurrent users before the first failure: {m.MaxUsersBeforeFirstFailure} (first failure: {first.Status} in stage {first.Stage} at {first.AtS:0.0} s with {first.Users} users)")
            : Invariant($"max concurrent users before the first failure: no failure, up to {m.MaxUsersBeforeFirstFailure} users"));
        if (m.P95SloMs is { } slo)
        {
            Console.Out.WriteLine(m.FirstStageOverSlo is { } over
                ? Invariant($"max concurrent users before P95 over {slo:0.###} ms: {m.MaxUsersBeforeP95OverSlo} (stage {over} went over)")
                : Invariant($"max concurrent users before P95 over {slo:0.###} ms: never over, up to {m.MaxUsersBeforeP95OverSlo} users"));
        }

        Console.Out.WriteLine($"requests per model: {string.Join(", ", r.Models.Select(u => Invariant($"{u.Alias} ({u.File}) {u.Requests}")))}");
        Console.Out.WriteLine(Invariant($"unloaded the {r.UnloadedAliases.Count} models it loaded{(r.UnloadFailures.Count == 0 ? "" : $"; {r.UnloadFailures.Count} could not be unloaded")}"));
    }

    private static string Ms(double? ms) => ms is { } value ? value.ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
