using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;
using Spectre.Console;

namespace AccelBroker.Cli.Comparing;

/// <summary><c>accel compare</c>'s human output: the rows cheapest first, then how they were measured, ordered and told apart.</summary>
internal static class CompareTable
{
    public static void Print(IReadOnlyList<CompareRow> rows, CompareSummary s)
    {
        string sloText = SloText(s.SloMs);
        bool perMillion = s.RankedBy == CompareRanking.ByCostPerMillionItems;
        bool accuracy = rows.Any(r => r.Accuracy is not null);
        var table = new Table().AddColumns("#", "instance", "kind", "executed on (measured here)", "$/hour", "P90 ms", "mean ms ±95%", "items/s ±95%", perMillion ? "cost per 1M items" : "cost per 100k", sloText);
        if (s.Baseline is not null)
        {
            table.AddColumn($"vs {Markup.Escape(s.Baseline)}: items/s, cost benefit");
        }

        table.AddColumn("not distinguishable from");
        if (accuracy)
        {
            table.AddColumn($"{s.Precision} vs fp32: cosine, max |diff|");
        }

        Dictionary<string, int> number = rows.Select((r, i) => (r.Instance, i + 1)).ToDictionary(p => p.Instance, p => p.Item2, StringComparer.Ordinal);
        foreach (CompareRow r in rows)
        {
            var cells = new List<string>
            {
                number[r.Instance].ToString(CultureInfo.InvariantCulture),
                Markup.Escape(r.Instance),
                r.Kind,
                Markup.Escape(r.ExecutedOn ?? (r.DoesNotFit is not null ? r.NotMeasuredReason! : "not measured: " + r.NotMeasuredReason)),
                Formatting.Price(r.PricePerHour),
                r.LatencyMs is null ? "" : Ms(r.LatencyMs.P90Ms),
                r.LatencyMs is null ? "" : Ms(r.LatencyMs.MeanMs) + PlusMinus(r.MeanLatencyCi95Ms, "0.00"),
                r.Throughput is null ? "" : r.Throughput.ItemsPerSecond.ToString("0.0", CultureInfo.InvariantCulture) + PlusMinus(r.Throughput.ItemsPerSecondCi95, "0.0"),
                CompareRanking.CostOf(r, s.RankedBy) is { } cost ? Usd(cost) : "",
                !r.Measured ? "" : r.MeetsSlo ? "meets" : "",
            };
            if (s.Baseline is not null)
            {
                cells.Add(r.VsBaseline is { ThroughputRatio: { } t, CostBenefit: { } c } ? $"{Ratio(t)}, {Ratio(c)}" : "");
            }

            cells.Add(string.Join(", ", r.NotDistinguishableFrom.Select(n => "#" + number[n].ToString(CultureInfo.InvariantCulture))));
            if (accuracy)
            {
                cells.Add(Markup.Escape(Accuracy(r)));
            }

            table.AddRow([.. cells]);
        }

        if (Console.IsOutputRedirected)
        {
            // Spectre assumes 80 columns without a terminal and would wrap names inside cells: keep rows greppable.
            AnsiConsole.Profile.Width = 320;
        }

        AnsiConsole.Write(table);
        string batch = $"batch {s.Batch}, {(s.Concurrency == 1 ? "1 caller" : $"{s.Concurrency} concurrent callers (closed loop)")}";
        Console.Out.WriteLine($"{s.Runs} measured runs per row at {s.Precision}, {batch}, after {s.Warmup} warm-up run(s) per caller; items/s = requests/s x batch; percentiles by nearest rank");
        Console.Out.WriteLine(perMillion
            ? "ranked by cost per million items = $/hour / (items/s x 3600) x 1,000,000 (seed 000: batch or callers above 1)"
            : "ranked by cost per 100k = $/hour / 3600 x mean latency x 100,000 (seed 002: one request of batch 1 at a time)");
        Console.Out.WriteLine($"order: {CompareRanking.OrderMethod}");
        Console.Out.WriteLine($"intervals: {ConfidenceInterval.BatchMeansMethod}; {CompareRanking.DistinguishMethod}");
        if (s.Note.Length > 0)
        {
            Console.Out.WriteLine(s.Note);
        }

        Console.Out.WriteLine(s.Cheapest is null
            ? $"no measured combination meets {sloText}"
            : $"cheapest meeting {sloText}: {s.Cheapest.Instance} ({Usd(CompareRanking.CostOf(s.Cheapest, s.RankedBy)!.Value)} {(perMillion ? "per million items" : "per 100k")}, P90 {Ms(s.Cheapest.LatencyMs!.P90Ms)} ms)"
                + (s.Cheapest.NotDistinguishableFrom.Count > 0 ? $"; not distinguishable from {string.Join(", ", s.Cheapest.NotDistinguishableFrom)}" : ""));
    }

    public static string SloText(double sloMs) => $"P90 < {sloMs.ToString("0.#########", CultureInfo.InvariantCulture)} ms";

    private static string Accuracy(CompareRow r) => r.Accuracy?.Describe() ?? "";

    private static string PlusMinus(ConfidenceInterval? ci, string format) =>
        ci is null ? "" : " ±" + ((ci.High - ci.Low) / 2).ToString(format, CultureInfo.InvariantCulture);

    private static string Ms(double ms) => ms.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Usd(double usd) => "$" + CompareRanking.Displayed(usd).ToString("0.###############", CultureInfo.InvariantCulture);

    private static string Ratio(double ratio) => ratio.ToString("0.00", CultureInfo.InvariantCulture) + "x";
}

/// <summary>The figures around the rows that the table's footer states.</summary>
internal sealed record CompareSummary(double SloMs, string Precision, long Batch, int Concurrency, int Runs, int Warmup, string RankedBy, string? Baseline, CompareRow? Cheapest, string Note);
