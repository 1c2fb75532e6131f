using ScottPlot;

namespace AccelBroker.Cli.Sweeping;

/// <summary>
/// <c>accel sweep --chart FILE</c>: three charts, each FILE's name with its own suffix, PNG or SVG by FILE's extension
/// (ScottPlot through SkiaSharp, as <c>compare</c>'s): throughput against P95 latency (one curve per precision),
/// throughput against batch and cost per million against batch (one curve per precision and concurrency).
/// </summary>
internal static class SweepChart
{
    public static IReadOnlyList<string> PathsFor(string path)
    {
        string directory = Path.GetDirectoryName(path) ?? "";
        string stem = Path.GetFileNameWithoutExtension(path);
        string extension = Path.GetExtension(path);
        return [.. new[] { "throughput-vs-p95", "throughput-vs-batch", "cost-vs-batch" }.Select(s => Path.Combine(directory, $"{stem}-{s}{extension}"))];
    }

    public static IReadOnlyList<string> Save(string path, SweepReport report, int width, int height)
    {
        if (SkiaSharp.SKFontManager.Default.FontFamilyCount == 0)
        {
            Console.Error.WriteLine("accel: warning: no fonts are installed, so the charts have no text; install one (e.g. apt-get install fonts-dejavu-core)");
        }

        IReadOnlyList<string> paths = PathsFor(path);
        SweepReport.CellInfo[] cells = [.. report.Cells.Where(c => c.LatencyMs is not null && c.NotMeasuredReason is null)];

        using (var plot = new Plot())
        {
            foreach (IGrouping<string, SweepReport.CellInfo> precision in cells.GroupBy(c => c.Precision))
            {
                SweepReport.CellInfo[] points = [.. precision.OrderBy(c => c.LatencyMs!.P95Ms)];
                var curve = plot.Add.Scatter(points.Select(c => c.LatencyMs!.P95Ms).ToArray(), points.Select(c => c.InferencesPerSecond).ToArray());
                curve.LegendText = precision.Key;
                curve.MarkerSize = 7;
            }

            plot.Axes.Bottom.Label.Text = "P95 latency (ms)";
            plot.Axes.Left.Label.Text = "throughput (inferences/s)";
            plot.Title($"{report.Model}: throughput vs P95 latency, every cell (batch x concurrency)");
            Finish(plot, paths[0], width, height);
        }

        SaveAgainstBatch(paths[1], report, cells, c => c.InferencesPerSecond, "throughput (inferences/s)", "throughput vs batch size", width, height);
        SaveAgainstBatch(paths[2], report, [.. cells.Where(c => c.CostPerMillion is not null)], c => c.CostPerMillion!.Value, "cost per 1M inferences ($, at measured throughput)", "cost per million vs batch size", width, height);
        return paths;
    }

    private static void SaveAgainstBatch(string path, SweepReport report, SweepReport.CellInfo[] cells, Func<SweepReport.CellInfo, double> value, string axis, string title, int width, int height)
    {
        using var plot = new Plot();
        foreach (IGrouping<(string Precision, int Concurrency), SweepReport.CellInfo> curve in cells.GroupBy(c => (c.Precision, c.Concurrency)).OrderBy(g => g.Key.Precision, StringComparer.Ordinal).ThenBy(g => g.Key.Concurrency))
        {
            SweepReport.CellInfo[] points = [.. curve.OrderBy(c => c.Batch)];
            var line = plot.Add.Scatter(points.Select(c => (double)c.Batch).ToArray(), points.Select(value).ToArray());
            line.LegendText = $"{curve.Key.Precision}, {curve.Key.Concurrency} caller(s)";
            line.MarkerSize = 7;
        }

        plot.Axes.Bottom.Label.Text = "batch size";
        plot.Axes.Left.Label.Text = axis;
        plot.Title($"{report.Model}: {title}");
        Finish(plot, path, width, height);
    }

    private static void Finish(Plot plot, string path, int width, int height)
    {
        plot.ShowLegend(Alignment.UpperLeft);
        if (Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase))
        {
            plot.SaveSvg(path, width, height);
        }
        else
        {
            plot.SavePng(path, width, height);
        }
    }
}
