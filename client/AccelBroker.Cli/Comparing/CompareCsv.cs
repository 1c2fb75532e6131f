using System.Globalization;
using System.Text;

namespace AccelBroker.Cli.Comparing;

/// <summary><c>accel compare --csv</c>: one header row with fixed names, then one line per combination (RFC 4180 quoting).</summary>
internal static class CompareCsv
{
    public static readonly string[] Columns =
    [
        "instance", "kind", "host_type", "slice_type", "executed_on", "price_per_hour",
        "p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms", "cost_per_100k", "meets_slo", "not_measured_reason",
        "batch", "concurrency", "measured_how", "mean_ms_ci95_low", "mean_ms_ci95_high", "requests_per_second", "items_per_second",
        "items_per_second_ci95_low", "items_per_second_ci95_high", "cost_per_million_items", "does_not_fit_needs_bytes", "does_not_fit_slice_holds_bytes",
        "not_distinguishable_from", "baseline", "throughput_vs_baseline", "cost_benefit_vs_baseline", "accuracy_min_cosine", "accuracy_max_abs_diff", "accuracy_not_checked_reason",
    ];

    public static void Write(string path, IEnumerable<CompareRow> rows)
    {
        var text = new StringBuilder();
        text.AppendJoin(',', Columns).Append('\n');
        foreach (CompareRow r in rows)
        {
            string[] fields =
            [
                r.Instance, r.Kind, r.HostType ?? "", r.SliceType ?? "", r.ExecutedOn ?? "", Number(r.PricePerHour),
                Number(r.LatencyMs?.P50Ms), Number(r.LatencyMs?.P90Ms), Number(r.LatencyMs?.P95Ms), Number(r.LatencyMs?.P99Ms), Number(r.LatencyMs?.MeanMs),
                Number(r.CostPer100k), r.Measured ? (r.MeetsSlo ? "true" : "false") : "", r.NotMeasuredReason ?? "",
                Number(r.Batch), Number(r.Concurrency), r.MeasuredHow ?? "", Number(r.MeanLatencyCi95Ms?.Low), Number(r.MeanLatencyCi95Ms?.High),
                Number(r.Throughput?.RequestsPerSecond), Number(r.Throughput?.ItemsPerSecond),
                Number(r.Throughput?.ItemsPerSecondCi95?.Low), Number(r.Throughput?.ItemsPerSecondCi95?.High), Number(r.CostPerMillionItems),
                Number(r.DoesNotFit?.NeedsBytes), Number(r.DoesNotFit?.SliceHoldsBytes),
                string.Join("; ", r.NotDistinguishableFrom), r.VsBaseline?.Baseline ?? "", Number(r.VsBaseline?.ThroughputRatio), Number(r.VsBaseline?.CostBenefit),
                Number(r.Accuracy?.MinCosineSimilarity), Number(r.Accuracy?.MaxAbsDifference), r.Accuracy?.NotCheckedReason ?? "",
            ];
            text.AppendJoin(',', fields.Select(Quote)).Append('\n');
        }

        File.WriteAllText(path, text.ToString());
    }

    private static string Number(double? value) => value?.ToString("0.#########", CultureInfo.InvariantCulture) ?? "";

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
