using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;
using AccelBroker.Cli.Measuring;
using Spectre.Console;

namespace AccelBroker.Cli.Sweeping;

/// <summary><c>accel sweep</c>'s human output: one row per cell, the knees, the best cell and its ties.</summary>
internal static class SweepPrinter
{
    public static void Print(SweepReport r)
    {
        Console.Out.WriteLine($"{r.Model} on {r.Host} eia:{r.Ordinal} ({r.SliceType}, {r.AcceleratorId}), executed on {r.Device}; {r.Stop}, closed loop");
        Console.Out.WriteLine($"prices: {Formatting.Price(r.Prices.PricePerHour)}/h ({r.Prices.HostType ?? "host not priced"} + {r.Prices.SliceType}); cost per 1M: {r.CostDefinition}");
        var knees = r.Knees.Select(k => k.Cell).ToHashSet(StringComparer.Ordinal);
        var ties = r.NotDistinguishableFromBest.ToHashSet(StringComparer.Ordinal);
        var table = new Table().AddColumns("precision", "batch", "callers", "req/s", "inf/s (95 % CI)", "P50 ms", "P95 ms", "P99 ms", "$ per 1M (95 % CI)", "stable", "failures", "");
        foreach (SweepReport.CellInfo c in r.Cells)
        {
            if (c.NotMeasuredReason is { } reason)
            {
                table.AddRow(c.Precision, Int(c.Batch), Int(c.Concurrency), "", "", "", "", "", "", "", "", Markup.Escape("not measured: " + reason));
                continue;
            }

            string failures = c.FailuresByStatus.Count == 0 ? "0" : string.Join(" ", c.FailuresByStatus.Select(f => $"{f.Key} {f.Value}"));
            var marks = new List<string>();
            if (knees.Contains(c.Name))
            {
                marks.Add("knee");
            }

            if (c.Name == r.Best)
            {
                marks.Add("best");
            }
            else if (ties.Contains(c.Name))
            {
                marks.Add("~best (CIs overlap)");
            }

            if (c.MeetsSlo == false)
            {
                marks.Add("over SLO");
            }

            table.AddRow(
                c.Precision, Int(c.Batch), Int(c.Concurrency), Num(c.RequestsPerSecond, "0.0"), Num(c.InferencesPerSecond, "0.0") + Interval(c.InferencesPerSecondCi, "0.0"),
                Ms(c.LatencyMs?.P50Ms), Ms(c.LatencyMs?.P95Ms), Ms(c.LatencyMs?.P99Ms),
                (c.CostPerMillion is { } cost ? "$" + Num(cost, "0.000") : "n/a") + Interval(c.CostPerMillionCi, "0.000"),
                c.Stable ? "yes" : "no", Markup.Escape(failures), string.Join(", ", marks));
        }

        // Redirected output has no terminal width: Spectre would squeeze twelve columns into 80 and wrap every number.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 180);
        }

        AnsiConsole.Write(table);
        Console.Out.WriteLine($"{r.MeasuredCells} of {r.TotalCells} cells measured{(r.Interrupted ? " (interrupted)" : "")}; percentiles nearest rank; {r.ConfidenceIntervalMethod}");
        Console.Out.WriteLine($"windows: {r.WindowRule}");
        foreach (SweepReport.KneeInfo k in r.Knees)
        {
            string ties2 = k.NotDistinguishableBatches.Count == 0 ? "" : $"; batch {string.Join(", ", k.NotDistinguishableBatches)} not distinguishable from the best (CIs overlap)";
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"knee at {k.Precision}: batch {k.Batch} ({k.Cell}, {k.InferencesPerSecond:0.0} inf/s; best {k.BestCell}, {k.BestInferencesPerSecond:0.0} inf/s){ties2}"));
        }

        Console.Out.WriteLine(r.Best is null ? $"best: none ({r.BestReason})" : $"best: {r.Best} ({r.BestReason})");
        if (r.NotDistinguishableFromBest.Count > 0)
        {
            Console.Out.WriteLine($"not distinguishable from the best (95 % CIs overlap): {string.Join("; ", r.NotDistinguishableFromBest)}");
        }

        foreach (AccuracyResult accuracy in r.Accuracy ?? [])
        {
            Console.Out.WriteLine($"accuracy of {accuracy.Precision} against {accuracy.Reference} (batch {r.Grid.Batches[0]} inputs; lowest cosine similarity, largest absolute difference): {accuracy.Describe()}");
        }
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Num(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Ms(double? ms) => ms is { } v ? Num(v, "0.000") : "";

    private static string Interval(ConfidenceInterval? ci, string format) => ci is null ? " (n/a)" : $" ({Num(ci.Low, format)}..{Num(ci.High, format)})";
}
