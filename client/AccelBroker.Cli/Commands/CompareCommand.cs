using System.CommandLine;
using System.Globalization;
using AccelBroker.Cli.Comparing;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Measuring;
using AccelBroker.Client;
using AccelBroker.Client.Pricing;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// <c>accel compare</c>: seed 002's comparison. Every combination is measured here the same way (n runs of one
/// input after the warm-up), priced with the catalogue, and the cheapest per 100k that meets the P90 SLO is named.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        Argument<FileInfo> model = new("MODEL") { Description = "TorchScript file (.pt)" };
        Option<string> hostTypes = new("--host-types") { Description = "Client host instance types, comma-separated, e.g. c5.large,m5.large", DefaultValueFactory = _ => "" };
        Option<string> sliceTypes = new("--slice-types") { Description = "Slice types to attach in turn, e.g. eia2.medium,eia2.large", DefaultValueFactory = _ => "" };
        Option<string> standalone = new("--standalone") { Description = "Standalone instance types, e.g. c5.xlarge,g4dn.xlarge", DefaultValueFactory = _ => "" };
        Option<double> slo = new("--p90-slo") { Description = "P90 latency bound in ms", DefaultValueFactory = _ => 15 };
        Option<string> precision = CommonOptions.Precision();
        var inputs = new BenchInputOptions();
        Option<string?> prices = CommonOptions.Prices();
        Option<bool> json = CommonOptions.Json();
        Option<FileInfo?> csv = new("--csv") { Description = "Also write the rows as CSV to this file" };
        Option<FileInfo?> chart = new("--chart") { Description = "Also draw the chart to this .png or .svg file" };
        Option<string> chartSize = new("--chart-size") { Description = "Chart size in pixels, WIDTHxHEIGHT", DefaultValueFactory = _ => "1200x700" };
        var command = new Command("compare", "Measure and price host + accelerator combinations and standalone instances (seed 002's table)")
        {
            model, hostTypes, sliceTypes, standalone, slo, precision, prices, json, csv, chart, chartSize,
        };
        inputs.AddTo(command);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string modelPath = parse.GetValue(model)!.FullName;
            if (!File.Exists(modelPath))
            {
                throw new CliException($"model file {modelPath} does not exist");
            }

            double sloMs = parse.GetValue(slo);
            if (!(sloMs > 0))
            {
                throw new CliException($"--p90-slo must be a positive number of milliseconds, got {sloMs}");
            }

            string? chartPath = parse.GetValue(chart)?.FullName;
            (int width, int height) = CompareChart.ParseSize(parse.GetValue(chartSize)!);
            if (chartPath is not null)
            {
                CompareChart.CheckPath(chartPath);
            }

            (int runs, int warmup) = inputs.Counts(parse);
            Tensor[] tensors = inputs.Build(parse, batch: null);
            string[] hosts = List(parse.GetValue(hostTypes));
            string[] slices = List(parse.GetValue(sliceTypes));
            string[] standalones = List(parse.GetValue(standalone));
            if (slices.Length == 0 && standalones.Length == 0)
            {
                throw new CliException("nothing to compare: give --slice-types (with --host-types) and/or --standalone");
            }

            if (slices.Length > 0 && hosts.Length == 0)
            {
                throw new CliException("--slice-types needs --host-types: the accelerators are priced with each host type");
            }

            string broker = CommonOptions.RequireBroker(parse);
            using var fleet = new FleetClient(CommonOptions.FleetOptions(parse));
            PriceCatalog catalog = await PriceSource.LoadAsync(fleet, parse.GetValue(prices), cancellationToken);
            // Every type is checked before anything is attached.
            Check(hosts, "host type", n => catalog.TryGetInstance(n, out _), catalog.KnownInstanceNames);
            Check(slices, "slice type", n => catalog.TryGetSlice(n, out _), catalog.KnownSliceNames);
            Check(standalones, "standalone instance type", n => catalog.TryGetInstance(n, out _), catalog.KnownInstanceNames);

            bool asJson = parse.GetValue(json);
            bool interactive = !asJson && !Console.IsOutputRedirected;
            string precisionName = parse.GetValue(precision)!;
            var measuring = new CompareMeasurer(fleet, parse.GetValue(CommonOptions.CaFile), modelPath, CommonOptions.PrecisionOf(precisionName), tensors, runs, warmup, interactive);
            var rows = new List<CompareRow>();
            foreach (string slice in slices)
            {
                (Measurement? measured, string? executedOn, string? reason) = await measuring.AttachedAsync(hosts[0], slice, cancellationToken);
                foreach (string hostType in hosts)
                {
                    double price = catalog.GetInstance(hostType).PricePerHour + catalog.GetSlice(slice).PricePerHour;
                    rows.Add(Row($"{hostType} + {slice}", CompareRow.HostAccelerator, hostType, slice, executedOn, price, measured, sloMs, reason));
                }
            }

            foreach (string name in standalones)
            {
                InstancePrice instance = catalog.GetInstance(name);
                (Measurement? measured, string? executedOn, string? reason) = instance.Kind == "gpu"
                    ? await measuring.GpuAgentAsync(name, cancellationToken)
                    : measuring.InProcess(cancellationToken);
                rows.Add(Row(name, CompareRow.KindOf(instance.Kind), null, null, executedOn, instance.PricePerHour, measured, sloMs, reason));
            }

            // Seed 002 lists the combinations cheapest first; unmeasured ones last.
            CompareRow[] ordered = [.. rows.OrderBy(r => r.Measured ? 0 : 1).ThenBy(r => r.CostPer100k ?? double.MaxValue)];
            CompareRow? cheapest = ordered.Where(r => r.Measured && r.MeetsSlo).MinBy(r => r.CostPer100k);
            string note = slices.Length == 0
                ? ""
                : $"host + accelerator latency was measured once per slice type, attached to temporary host {measuring.TempHost} of type {hosts[0]}, and priced with each host type ({string.Join(", ", hosts)})";

            if (parse.GetValue(csv) is { } csvFile)
            {
                CompareCsv.Write(csvFile.FullName, ordered);
            }

            if (chartPath is not null)
            {
                CompareChart.Save(chartPath, ordered, sloMs, width, height);
            }

            if (asJson)
            {
                CliJson.Print(new
                {
                    model = Path.GetFileName(modelPath),
                    precision = precisionName,
                    slo = new { p90_ms = sloMs },
                    percentile_definition = "nearest-rank",
                    runs,
                    warmup,
                    temp_host = slices.Length == 0 ? null : measuring.TempHost,
                    note,
                    rows = ordered,
                    cheapest = cheapest?.Instance,
                    csv = parse.GetValue(csv)?.FullName,
                    chart = chartPath is null ? null : new { path = chartPath, width, height },
                });
                return 0;
            }

            PrintTable(ordered, sloMs, cheapest, note, precisionName, runs, warmup);
            if (parse.GetValue(csv) is { } written)
            {
                Console.Out.WriteLine($"csv: {written.FullName}");
            }

            if (chartPath is not null)
            {
                Console.Out.WriteLine($"chart: {chartPath} ({width}x{height})");
            }

            return 0;
        });
        return command;
    }

    private static CompareRow Row(string instance, string kind, string? hostType, string? slice, string? executedOn, double price, Measurement? measured, double sloMs, string? reason)
    {
        if (measured is null)
        {
            return new CompareRow(instance, kind, hostType, slice, null, price, null, null, false, reason);
        }

        LatencySummary latency = measured.Summary;
        double cost = CostModel.PerHundredThousand(price, latency.MeanMs / 1000);
        return new CompareRow(instance, kind, hostType, slice, executedOn, price, latency, cost, latency.P90Ms < sloMs, null);
    }

    private static void PrintTable(IReadOnlyList<CompareRow> rows, double sloMs, CompareRow? cheapest, string note, string precision, int runs, int warmup)
    {
        static string Ms(double ms) => ms.ToString("0.00", CultureInfo.InvariantCulture);
        string sloText = $"P90 < {sloMs.ToString("0.#########", CultureInfo.InvariantCulture)} ms";
        var table = new Table().AddColumns("instance", "kind", "executed on (measured here)", "$/hour", "P90 ms", "mean ms", "cost per 100k", sloText);
        foreach (CompareRow r in rows)
        {
            table.AddRow(
                Markup.Escape(r.Instance),
                r.Kind,
                Markup.Escape(r.ExecutedOn ?? "not measured: " + r.NotMeasuredReason),
                Formatting.Price(r.PricePerHour),
                r.LatencyMs is null ? "" : Ms(r.LatencyMs.P90Ms),
                r.LatencyMs is null ? "" : Ms(r.LatencyMs.MeanMs),
                r.CostPer100k is { } cost ? "$" + cost.ToString("0.0000", CultureInfo.InvariantCulture) : "",
                !r.Measured ? "" : r.MeetsSlo ? "meets" : "");
        }

        if (Console.IsOutputRedirected)
        {
            // Spectre assumes 80 columns without a terminal and would wrap names inside cells: keep rows greppable.
            AnsiConsole.Profile.Width = 200;
        }

        AnsiConsole.Write(table);
        Console.Out.WriteLine($"{runs} measured runs per row at {precision} after {warmup} warm-up run(s); cost per 100k = $/hour / 3600 x mean latency x 100,000; percentiles by nearest rank");
        if (note.Length > 0)
        {
            Console.Out.WriteLine(note);
        }

        Console.Out.WriteLine(cheapest is null
            ? $"no measured combination meets {sloText}"
            : $"cheapest meeting {sloText}: {cheapest.Instance} (${cheapest.CostPer100k!.Value.ToString("0.0000", CultureInfo.InvariantCulture)} per 100k, P90 {Ms(cheapest.LatencyMs!.P90Ms)} ms)");
    }

    private static string[] List(string? text) =>
        (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();

    private static void Check(string[] names, string what, Func<string, bool> known, string knownNames)
    {
        foreach (string name in names)
        {
            if (!known(name))
            {
                throw new CliException($"unknown {what} '{name}'; known: {knownNames}");
            }
        }
    }
}
