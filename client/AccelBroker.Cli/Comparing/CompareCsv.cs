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
            ];
            text.AppendJoin(',', fields.Select(Quote)).Append('\n');
        }

        File.WriteAllText(path, text.ToString());
    }

    private static string Number(double? value) => value?.ToString("0.#########", CultureInfo.InvariantCulture) ?? "";

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
