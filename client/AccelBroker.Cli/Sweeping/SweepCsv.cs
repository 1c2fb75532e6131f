using System.Globalization;
using System.Text;

namespace AccelBroker.Cli.Sweeping;

/// <summary><c>accel sweep --csv</c>: one header row with fixed names, then one line per cell (RFC 4180 quoting).</summary>
internal static class SweepCsv
{
    public static readonly string[] Columns =
    [
        "precision", "batch", "concurrency", "requests", "succeeded", "failures", "requests_per_second", "inferences_per_second",
        "inferences_per_second_ci_low", "inferences_per_second_ci_high", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms",
        "cost_per_million", "cost_per_million_ci_low", "cost_per_million_ci_high", "windows", "stable", "meets_slo", "knee", "best",
        "not_distinguishable_from_best", "not_measured_reason",
    ];

    public static void Write(string path, SweepReport report)
    {
        var knees = report.Knees.Select(k => k.Cell).ToHashSet(StringComparer.Ordinal);
        var ties = report.NotDistinguishableFromBest.ToHashSet(StringComparer.Ordinal);
        var text = new StringBuilder();
        text.AppendJoin(',', Columns).Append('\n');
        foreach (SweepReport.CellInfo c in report.Cells)
        {
            string failures = string.Join(' ', c.FailuresByStatus.Select(f => $"{f.Key}={f.Value}"));
            string[] fields =
            [
                c.Precision, Int(c.Batch), Int(c.Concurrency), Int(c.Requests), Int(c.Succeeded), failures, Number(c.RequestsPerSecond), Number(c.InferencesPerSecond),
                Number(c.InferencesPerSecondCi?.Low), Number(c.InferencesPerSecondCi?.High), Number(c.LatencyMs?.P50Ms), Number(c.LatencyMs?.P90Ms),
                Number(c.LatencyMs?.P95Ms), Number(c.LatencyMs?.P99Ms), Number(c.LatencyMs?.MeanMs), Number(c.CostPerMillion),
                Number(c.CostPerMillionCi?.Low), Number(c.CostPerMillionCi?.High), Int(c.Windows), Bool(c.Stable), c.MeetsSlo is { } m ? Bool(m) : "",
                Bool(knees.Contains(c.Name)), Bool(c.Name == report.Best), Bool(ties.Contains(c.Name)), c.NotMeasuredReason ?? "",
            ];
            text.AppendJoin(',', fields.Select(Quote)).Append('\n');
        }

        File.WriteAllText(path, text.ToString());
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Number(double? value) => value?.ToString("0.#########", CultureInfo.InvariantCulture) ?? "";

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
