using System.CommandLine;
using AccelBroker.Cli.Comparing;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;
using AccelBroker.Cli.Measuring;
using AccelBroker.Cli.Sweeping;
using AccelBroker.Client;
using AccelBroker.Client.Pricing;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// <c>accel sweep</c>: seed 000's parametric sweep, (throughput, latency) = f(batch size, client threads, precision), on
/// one of a host's accelerators: every cell's throughput, percentiles and cost per million, the knee at each precision
/// and the best cell under a P95 SLO.
/// </summary>
internal static class SweepCommand
{
    public const int ExitInterrupted = 130;
    private static readonly TimeSpan DefaultCellDuration = TimeSpan.FromSeconds(15);

    public static Command Create()
    {
        Argument<FileInfo> model = new("MODEL") { Description = "TorchScript file (.pt)" };
        Option<string> host = CommonOptions.Host();
        Option<int> ordinal = CommonOptions.Ordinal();
        var inputs = new BenchInputOptions();
        var load = new LoadOptions();
        Option<string> batches = new("--batch") { Description = "Batch sizes, comma-separated (first dimension of --input-shape, or --input repeated along dimension 0)", DefaultValueFactory = _ => "1,4,8,16,32" };
        Option<string> concurrencies = new("--concurrency") { Description = "Callers (closed loop), comma-separated", DefaultValueFactory = _ => "1,2,4,8" };
        Option<string> precisions = new("--precision") { Description = "Precisions, comma-separated: fp32, fp16, bf16", DefaultValueFactory = _ => "fp32,fp16" };
        Option<double?> slo = new("--p95-slo") { Description = "P95 latency objective in ms: the best cell is the fastest that meets it" };
        Option<string?> prices = CommonOptions.Prices();
        Option<bool> json = CommonOptions.Json();
        Option<string?> csv = new("--csv") { Description = "Also write every cell to this CSV file" };
        Option<string?> chart = new("--chart") { Description = "Also draw three charts, FILE-throughput-vs-p95, FILE-throughput-vs-batch and FILE-cost-vs-batch (.png or .svg)" };
        Option<string> chartSize = new("--chart-size") { Description = "Chart size in pixels, WIDTHxHEIGHT", DefaultValueFactory = _ => "1000x600" };
        Option<bool> checkAccuracy = CommonOptions.CheckAccuracy();
        var command = new Command("sweep", "Sweep batch size x concurrency x precision on a host's accelerator: throughput, latency, cost per 1M, the knee and the best cell under an SLO")
        {
            model, host, ordinal, batches, concurrencies, precisions, slo, prices, json, csv, chart, chartSize, checkAccuracy, inputs.Warmup,
        };
        inputs.AddInputsTo(command);
        load.AddTo(command, modes: false);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string modelPath = parse.GetValue(model)!.FullName;
            if (!File.Exists(modelPath))
            {
                throw new CliException($"model file {modelPath} does not exist");
            }

            var grid = SweepGrid.Parse(parse.GetValue(precisions)!, parse.GetValue(batches)!, parse.GetValue(concurrencies)!);
            int warmup = parse.GetValue(inputs.Warmup);
            if (warmup is < 0 or > 10_000)
            {
                throw new CliException($"--warmup must be between 0 and 10000, got {warmup}");
            }

            double? sloMs = parse.GetValue(slo);
            if (sloMs is <= 0 || (sloMs is { } given && !double.IsFinite(given)))
            {
                throw new CliException($"--p95-slo must be a positive number of milliseconds, got {sloMs}");
            }

            StopRule stop = load.Stop(parse, runs: null);
            if (stop.Duration is null && !stop.UntilStable)
            {
                stop = stop with { Duration = DefaultCellDuration };
            }

            string? csvPath = parse.GetValue(csv);
            string? chartPath = parse.GetValue(chart);
            (int width, int height) = CompareChart.ParseSize(parse.GetValue(chartSize)!);
            if (chartPath is not null)
            {
                CompareChart.CheckPath(chartPath);
            }

            // Every batch's inputs are built now, so a bad shape is refused before anything loads.
            var byBatch = grid.Batches.ToDictionary(b => b, b => inputs.Build(parse, b));
            string broker = CommonOptions.RequireBroker(parse);
            string hostName = parse.GetValue(host)!;
            int hostOrdinal = parse.GetValue(ordinal);
            using var fleet = new FleetClient(CommonOptions.FleetOptions(parse));
            PriceCatalog catalog = await PriceSource.LoadAsync(fleet, parse.GetValue(prices), cancellationToken);
            Accelerator resolved = await fleet.ResolveAcceleratorAsync(hostName, hostOrdinal, cancellationToken);
            UsedPrices used = UsedPrices.For(catalog, resolved);
            SliceClient slice = await fleet.OpenSliceAsync(hostName, hostOrdinal, cancellationToken);
            ListModelsResponse before = await slice.ListModelsAsync(cancellationToken);
            var heldBefore = before.Models.Select(m => m.ModelId).ToHashSet(StringComparer.Ordinal);

            using AcceleratorSession session = await AcceleratorSession.OpenAsync(
                new AcceleratorSessionOptions { Broker = broker, Host = hostName, Ordinal = hostOrdinal, CaFile = parse.GetValue(CommonOptions.CaFile), HostCredential = CommonOptions.ApiKey(parse) }, cancellationToken);
            bool check = parse.GetValue(checkAccuracy);
            var measurer = new SweepMeasurer(session, modelPath, b => byBatch[b], warmup, stop, used.PricePerHour, LoadEngine.System, check);
            bool asJson = parse.GetValue(json);
            List<SweepCell> cells;
            bool interrupted;
            List<string> unloaded;
            try
            {
                (cells, interrupted) = asJson || Console.IsOutputRedirected
                    // Without a terminal, one line per cell on stderr says how far the sweep is (stdout stays the report).
                    ? await measurer.RunAsync(grid, heldBefore, (i, name) => Console.Error.WriteLine($"accel: sweep: cell {i + 1}/{grid.Cells}: {name}"), null, cancellationToken)
                    : await SweepProgress.RunAsync(grid, stop, (cell, tick) => measurer.RunAsync(grid, heldBefore, cell, tick, cancellationToken));
            }
            finally
            {
                unloaded = await measurer.UnloadAsync();
            }

            // Cells not reached keep their place in the grid as not measured, so the table says what is missing.
            var analysis = SweepAnalysis.Of(cells, sloMs);
            string[] warnings = [.. measurer.Cpu.Where(c => c.Saturated).Select(c => c.Warning!).Take(1)];
            var report = new SweepReport(
                Path.GetFileName(modelPath), hostName, hostOrdinal, session.Accelerator.Id, session.Accelerator.SliceType, measurer.Device, used, grid,
                stop.Describe() + " per cell", stop.Windows.Describe(), ConfidenceInterval.Method, LoadCosts.PerMillionLabel,
                "the knee: the smallest batch whose throughput (best over the concurrencies) is within 5 % of the best at that precision",
                sloMs, grid.Cells, cells.Count(c => c.Measured), interrupted,
                [.. cells.Select(c => SweepReport.Cell(c, sloMs))], [.. analysis.Knees.Select(SweepReport.Knee)],
                analysis.Best?.Name, analysis.BestReason, [.. analysis.NotDistinguishableFromBest.Select(c => c.Name)], unloaded, warnings,
                check ? measurer.Accuracy : null);

            if (csvPath is not null)
            {
                SweepCsv.Write(csvPath, report);
            }

            IReadOnlyList<string> charts = chartPath is null ? [] : SweepChart.Save(chartPath, report, width, height);
            if (asJson)
            {
                CliJson.Print(report);
            }
            else
            {
                SweepPrinter.Print(report);
                if (csvPath is not null)
                {
                    Console.Out.WriteLine($"csv: {csvPath}");
                }

                foreach (string path in charts)
                {
                    Console.Out.WriteLine($"chart: {path} ({width}x{height})");
                }
            }

            foreach (string warning in warnings)
            {
                Console.Error.WriteLine($"accel: {warning}");
            }

            if (interrupted)
            {
                Console.Error.WriteLine($"accel: interrupted: {report.MeasuredCells} of {grid.Cells} cells measured; the models this sweep loaded were unloaded");
                return ExitInterrupted;
            }

            return 0;
        });
        return command;
    }
}
