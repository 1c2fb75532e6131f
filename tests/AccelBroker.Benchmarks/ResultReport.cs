using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AccelBroker.Benchmarks;

/// <summary>The closing table, and the same results as JSON for machines.</summary>
internal static class ResultReport
{
    private static readonly string[] Headers = ["benchmark", "metric", "value", "target", "device", "result"];

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // A file for people and tools, not HTML: keep "<=" readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void PrintTable(IReadOnlyList<BenchmarkResult> results, RunEnvironment environment)
    {
        List<string[]> rows = results.Select(r => new[] { r.Name, r.Metric, r.ValueText, r.Target, r.Device, Label(r.Outcome) }).ToList();
        int[] widths = Headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        Console.WriteLine();
        Console.WriteLine(Fmt.Invariant($"results on {environment.Machine} ({environment.Cores} cores), {environment.Mode} mode:"));
        Console.WriteLine(Line(Headers, widths));
        Console.WriteLine(Line(widths.Select(w => new string('-', w)).ToArray(), widths));
        foreach (string[] row in rows)
        {
            Console.WriteLine(Line(row, widths));
        }
    }

    public static string Markdown(IReadOnlyList<BenchmarkResult> results)
    {
        var lines = new List<string>
        {
            "| benchmark | metric | value | target | device | result |",
            "|---|---|---|---|---|---|",
        };
        lines.AddRange(results.Select(r => $"| {r.Name} | {r.Metric} | {r.ValueText} | {r.Target} | {r.Device} | {Label(r.Outcome)} |"));
        return string.Join(Environment.NewLine, lines);
    }

    public static async Task WriteJsonAsync(string path, IReadOnlyList<BenchmarkResult> results, RunEnvironment environment)
    {
        var document = new
        {
            environment = new
            {
                started_at = environment.StartedAt,
                machine = environment.Machine,
                cores = environment.Cores,
                os = environment.Os,
                runtime = environment.Runtime,
                torch = environment.Torch,
                intra_op_threads = environment.IntraOpThreads,
                server_gc = environment.ServerGc,
                mode = environment.Mode,
                command = environment.CommandLine,
                tuning_env = environment.Tuning,
                percentiles = Samples.PercentileDefinition,
                megabyte = "10^6 bytes",
            },
            results = results.Select(r => new
            {
                name = r.Name,
                title = r.Title,
                metric = r.Metric,
                value = r.Value,
                value_text = r.ValueText,
                target = r.Target,
                outcome = Label(r.Outcome),
                device = r.Device,
                numbers = r.Numbers,
                details = r.Details,
                error = r.Error,
            }),
        };
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        await using FileStream file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, document, Options);
    }

    public static string Label(Outcome outcome) => outcome switch
    {
        Outcome.Pass => "PASS",
        Outcome.Fail => "FAIL",
        Outcome.Skipped => "SKIPPED",
        _ => "CRASHED",
    };

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
}
