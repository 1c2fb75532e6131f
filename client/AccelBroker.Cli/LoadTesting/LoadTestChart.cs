using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using ScottPlot;

namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// <c>accel loadtest --chart FILE</c>, seed 003's figures, each its own file named after FILE with a suffix:
/// <c>-latency</c> (P50/P95/P99 against users), <c>-throughput</c> (requests/s against users) and <c>-requests</c>
/// (successes and failures per stage, stacked). Users are each stage's most; PNG or SVG by FILE's extension,
/// drawn by ScottPlot through SkiaSharp as <c>accel compare</c>'s chart is.
/// </summary>
internal static class LoadTestChart
{
    private static readonly Color P50 = Color.FromHex("#2F6FB5");
    private static readonly Color P95 = Color.FromHex("#E8871E");
    private static readonly Color P99 = Color.FromHex("#C0392B");
    private static readonly Color Throughput = Color.FromHex("#2E9E44");
    private static readonly Color Successes = Color.FromHex("#2E9E44");
    private static readonly Color Failures = Color.FromHex("#C0392B");

    public static (int Width, int Height) ParseSize(string text)
    {
        string[] parts = text.ToLowerInvariant().Split('x');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int height)
            && width is >= 200 and <= 10_000 && height is >= 150 and <= 10_000
            ? (width, height)
            : throw new CliUsageException($"--chart-size must be WIDTHxHEIGHT in pixels (200..10000 x 150..10000), e.g. 1200x700, got '{text}'");
    }

    /// <summary>The three files <paramref name="path"/> stands for; refuses an extension other than .png or .svg.</summary>
    public static IReadOnlyList<string> PathsOf(string path)
    {
        string extension = Path.GetExtension(path);
        if (!extension.Equals(".png", StringComparison.OrdinalIgnoreCase) && !extension.Equals(".svg", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliUsageException($"--chart must end in .png or .svg, got '{path}'");
        }

        string stem = Path.Combine(Path.GetDirectoryName(path) ?? "", Path.GetFileNameWithoutExtension(path));
        return [$"{stem}-latency{extension}", $"{stem}-throughput{extension}", $"{stem}-requests{extension}"];
    }

    public static IReadOnlyList<string> Save(string path, IReadOnlyList<StageResult> stages, double? sloMs, int width, int height)
    {
        // Skia draws text only with a system font; a bare server image may have none, and the charts would be silent about it.
        if (SkiaSharp.SKFontManager.Default.FontFamilyCount == 0)
        {
            Console.Error.WriteLine("accel: warning: no fonts are installed, so the charts have no text; install one (e.g. apt-get install fonts-dejavu-core)");
        }

        IReadOnlyList<string> paths = PathsOf(path);
        StageResult[] measured = stages.Where(s => s.LatencyMs is not null).ToArray();
        double[] users = measured.Select(s => (double)s.MaxUsers).ToArray();

        using (var latency = new Plot())
        {
            AddLine(latency, users, measured.Select(s => s.LatencyMs!.P50Ms).ToArray(), P50, "P50");
            AddLine(latency, users, measured.Select(s => s.LatencyMs!.P95Ms).ToArray(), P95, "P95");
            AddLine(latency, users, measured.Select(s => s.LatencyMs!.P99Ms).ToArray(), P99, "P99");
            if (sloMs is { } slo)
            {
                var line = latency.Add.HorizontalLine(slo);
                line.Color = P95.WithAlpha(0.5);
                line.LinePattern = LinePattern.Dashed;
                line.LegendText = Invariant($"P95 SLO {slo:0.###} ms");
            }

            latency.Axes.Bottom.Label.Text = "concurrent users (stage's most)";
            latency.Axes.Left.Label.Text = "latency of successful requests (ms)";
            latency.Axes.Margins(bottom: 0);
            latency.Title("Latency against concurrent users");
            latency.ShowLegend(Alignment.UpperLeft);
            SaveAs(latency, paths[0], width, height);
        }

        using (var throughput = new Plot())
        {
            double[] all = stages.Select(s => (double)s.MaxUsers).ToArray();
            AddLine(throughput, all, stages.Select(s => s.RequestsPerSecond).ToArray(), Throughput, "requests/s");
            throughput.Axes.Bottom.Label.Text = "concurrent users (stage's most)";
            throughput.Axes.Left.Label.Text = "requests per second";
            throughput.Axes.Margins(bottom: 0);
            throughput.Title("Throughput against concurrent users");
            SaveAs(throughput, paths[1], width, height);
        }

        using (var requests = new Plot())
        {
            var bars = new List<Bar>();
            double[] positions = new double[stages.Count];
            string[] labels = new string[stages.Count];
            for (int i = 0; i < stages.Count; i++)
            {
                StageResult s = stages[i];
                positions[i] = i;
                labels[i] = Invariant($"{s.Stage}: {s.MaxUsers} users");
                bars.Add(new Bar { Position = i, ValueBase = 0, Value = s.Successes, FillColor = Successes });
                bars.Add(new Bar { Position = i, ValueBase = s.Successes, Value = s.Successes + s.FailureCount, FillColor = Failures });
            }

            requests.Add.Bars(bars);
            requests.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, labels);
            requests.Axes.Bottom.TickLabelStyle.Rotation = 30;
            requests.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            requests.Axes.Bottom.MinimumSize = Math.Min(height / 3f, 40 + (6f * labels.DefaultIfEmpty("").Max(l => l.Length)));
            requests.Axes.Left.Label.Text = "requests";
            requests.Axes.Margins(bottom: 0);
            requests.Title("Successful and failed requests per stage");
            requests.Legend.ManualItems.Add(new LegendItem { LabelText = "successes", FillColor = Successes });
            requests.Legend.ManualItems.Add(new LegendItem { LabelText = "failures", FillColor = Failures });
            requests.ShowLegend(Alignment.UpperLeft);
            SaveAs(requests, paths[2], width, height);
        }

        return paths;
    }

    private static void AddLine(Plot plot, double[] xs, double[] ys, Color color, string label)
    {
        var line = plot.Add.Scatter(xs, ys);
        line.Color = color;
        line.LineWidth = 2;
        line.MarkerSize = 7;
        line.LegendText = label;
    }

    private static void SaveAs(Plot plot, string path, int width, int height)
    {
        if (Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase))
        {
            plot.SaveSvg(path, width, height);
        }
        else
        {
            plot.SavePng(path, width, height);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
