using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using ScottPlot;

namespace AccelBroker.Cli.Comparing;

/// <summary>
/// <c>accel compare --chart</c>, drawn like seed 002's figure: one bar per combination (cost per 100k, coloured by
/// kind) and P90 latency as a line on a second axis. ScottPlot renders it through SkiaSharp, PNG or SVG.
/// </summary>
internal static class CompareChart
{
    private static readonly Color HostAccelerator = Color.FromHex("#555555");
    private static readonly Color StandaloneGpu = Color.FromHex("#2E9E44");
    private static readonly Color StandaloneCpu = Color.FromHex("#2F6FB5");
    private static readonly Color P90Line = Color.FromHex("#E8871E");

    public static (int Width, int Height) ParseSize(string text)
    {
        string[] parts = text.ToLowerInvariant().Split('x');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int height)
            && width is >= 200 and <= 10_000 && height is >= 150 and <= 10_000
            ? (width, height)
            : throw new CliException($"--chart-size must be WIDTHxHEIGHT in pixels (200..10000 x 150..10000), e.g. 1200x700, got '{text}'");
    }

    public static void CheckPath(string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not ".png" and not ".svg")
        {
            throw new CliException($"--chart must end in .png or .svg, got '{path}'");
        }
    }

    public static void Save(string path, IReadOnlyList<CompareRow> rows, double sloMs, string rankedBy, int width, int height)
    {
        // Skia draws text only with a system font; a bare server image may have none, and the chart would be silent about it.
        if (SkiaSharp.SKFontManager.Default.FontFamilyCount == 0)
        {
            Console.Error.WriteLine("accel: warning: no fonts are installed, so the chart has no text; install one (e.g. apt-get install fonts-dejavu-core)");
        }

        CompareRow[] measured = rows.Where(r => r.Measured).ToArray();
        using var plot = new Plot();
        var bars = new List<Bar>();
        double[] positions = new double[measured.Length];
        double[] p90 = new double[measured.Length];
        string[] labels = new string[measured.Length];
        for (int i = 0; i < measured.Length; i++)
        {
            positions[i] = i;
            p90[i] = measured[i].LatencyMs!.P90Ms;
            labels[i] = measured[i].Instance;
            bars.Add(new Bar { Position = i, Value = CompareRanking.CostOf(measured[i], rankedBy) ?? 0, FillColor = ColorOf(measured[i].Kind) });
        }

        plot.Add.Bars(bars);
        string sloText = $"P90 < {sloMs.ToString("0.#########", CultureInfo.InvariantCulture)} ms";
        CompareChartLayout.LatencyAxis axis = CompareChartLayout.FitLatency(p90, sloMs);
        if (measured.Length > 0)
        {
            var line = plot.Add.Scatter(positions, p90);
            line.Axes.YAxis = plot.Axes.Right;
            line.Color = P90Line;
            line.LineWidth = 2;
            line.MarkerSize = 8;
            if (axis.SloOnAxis)
            {
                var slo = plot.Add.HorizontalLine(sloMs);
                slo.Axes.YAxis = plot.Axes.Right;
                slo.Color = P90Line.WithAlpha(0.5);
                slo.LinePattern = LinePattern.Dashed;
            }
        }

        IReadOnlyList<string> notes = CompareChartLayout.Notes(rows, axis, sloText);
        if (notes.Count > 0)
        {
            var note = plot.Add.Annotation(string.Join("\n", notes), Alignment.UpperRight);
            note.LabelFontSize = 11;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, labels);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        // Rotated names need room below the axis, or "c5.large + eia2.medium" is cut off at the image edge.
        plot.Axes.Bottom.MinimumSize = Math.Min(height / 3f, 40 + (6f * labels.DefaultIfEmpty("").Max(l => l.Length)));
        plot.Axes.Left.Label.Text = rankedBy == CompareRanking.ByCostPer100k
            ? "cost per 100,000 inferences ($, mean latency)"
            : "cost per million inferences ($, measured throughput)";
        plot.Axes.Right.Label.Text = "P90 latency (ms)";
        plot.Axes.Margins(bottom: 0);
        // The latency axis fits the points, not an SLO far above them (that one is a note instead).
        plot.Axes.SetLimitsY(0, axis.Max, plot.Axes.Right);
        string costText = rankedBy == CompareRanking.ByCostPer100k ? "Cost per 100k inferences" : "Cost per million inferences";
        plot.Title(axis.SloOnAxis ? $"{costText} (bars) and P90 latency (line); SLO {sloText} (dashed)" : $"{costText} (bars) and P90 latency (line)");

        foreach (string kind in CompareChartLayout.LegendKinds(rows))
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = LegendText(kind), FillColor = ColorOf(kind) });
        }

        if (measured.Length > 0)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = "P90 latency (ms)", LineColor = P90Line, LineWidth = 2, MarkerColor = P90Line, MarkerSize = 8 });
        }

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

    private static string LegendText(string kind) => kind switch
    {
        CompareRow.StandaloneGpu => "standalone GPU",
        CompareRow.StandaloneCpu => "standalone CPU",
        _ => "host + accelerator",
    };

    private static Color ColorOf(string kind) => kind switch
    {
        CompareRow.StandaloneGpu => StandaloneGpu,
        CompareRow.StandaloneCpu => StandaloneCpu,
        _ => HostAccelerator,
    };
}
