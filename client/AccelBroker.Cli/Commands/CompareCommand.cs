using System.CommandLine;
using AccelBroker.Cli.Comparing;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;
using AccelBroker.Cli.Measuring;
using AccelBroker.Client;
using AccelBroker.Client.Pricing;
using Grpc.Core;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// <c>accel compare</c>: seed 002's comparison. Every combination is measured here the same way (n runs of one
/// input after the warm-up, at one batch size and number of callers), priced with the catalogue, ordered by cost
/// with its confidence interval, and the cheapest that meets the P90 SLO is named.
/// </summary>
internal static class CompareCommand
{
    /// <summary>Exit code after Ctrl-C, as the shell reports a process ended by SIGINT.</summary>
    public const int ExitInterrupted = 130;

    public static Command Create()
    {
        Argument<FileInfo> model = new("MODEL") { Description = "TorchScript file (.pt)" };
        Option<string> hostTypes = new("--host-types") { Description = "Client host instance types, comma-separated, e.g. c5.large,m5.large", DefaultValueFactory = _ => "" };
        Option<string> sliceTypes = new("--slice-types") { Description = "Slice types to attach in turn, e.g. eia2.medium,eia2.large", DefaultValueFactory = _ => "" };
        Option<string> standalone = new("--standalone") { Description = "Standalone instance types, e.g. c5.xlarge,g4dn.xlarge", DefaultValueFactory = _ => "" };
        Option<double> slo = new("--p90-slo") { Description = "P90 latency bound in ms", DefaultValueFactory = _ => 15 };
        Option<int?> batch = new("--batch") { Description = "Batch size for every row: first dimension of --input-shape, or --input tensors repeated along dimension 0" };
        Option<int> concurrency = new("--concurrency") { Description = "Concurrent callers per row, one request in flight each (closed loop)", DefaultValueFactory = _ => 1 };
        Option<string?> baseline = new("--baseline") { Description = "A row's name, e.g. 'c5.large + eia2.medium': adds throughput and cost ratios against it" };
        Option<bool> checkAccuracy = CommonOptions.CheckAccuracy();
        Option<string> precision = CommonOptions.Precision();
        var inputs = new BenchInputOptions();
        Option<string?> prices = CommonOptions.Prices();
        Option<bool> json = CommonOptions.Json();
        Option<FileInfo?> csv = new("--csv") { Description = "Also write the rows as CSV to this file" };
        Option<FileInfo?> chart = new("--chart") { Description = "Also draw the chart to this .png or .svg file" };
        Option<string> chartSize = new("--chart-size") { Description = "Chart size in pixels, WIDTHxHEIGHT", DefaultValueFactory = _ => "1200x700" };
        var command = new Command("compare", "Measure and price host + accelerator combinations and standalone instances (seed 002's table)")
        {
            model, hostTypes, sliceTypes, standalone, slo, batch, concurrency, baseline, checkAccuracy, precision, prices, json, csv, chart, chartSize,
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

            int callers = parse.GetValue(concurrency);
            if (callers is < 1 or > 256)
            {
                throw new CliException($"--concurrency must be between 1 and 256, got {callers}");
            }

            string? chartPath = parse.GetValue(chart)?.FullName;
            (int width, int height) = CompareChart.ParseSize(parse.GetValue(chartSize)!);
            if (chartPath is not null)
            {
                CompareChart.CheckPath(chartPath);
            }

            (int runs, int warmup) = inputs.Counts(parse);
            Tensor[] tensors = inputs.Build(parse, parse.GetValue(batch));
            long batchSize = BenchInputOptions.BatchOf(tensors);
            var plan = ComparePlan.Of(parse.GetValue(hostTypes), parse.GetValue(sliceTypes), parse.GetValue(standalone), parse.GetValue(baseline));

            CommonOptions.RequireBroker(parse);
            using var fleet = new FleetClient(CommonOptions.FleetOptions(parse));
            PriceCatalog catalog = await PriceSource.LoadAsync(fleet, parse.GetValue(prices), cancellationToken);
            // Every type is checked before anything is attached.
            plan.Check(catalog);

            bool asJson = parse.GetValue(json);
            string precisionName = parse.GetValue(precision)!;
            var work = new CompareWorkload(modelPath, CommonOptions.PrecisionOf(precisionName), tensors, runs, warmup, callers, parse.GetValue(checkAccuracy));
            var measuring = new CompareMeasurer(fleet, parse.GetValue(CommonOptions.CaFile), work, progress: !asJson && !Console.IsOutputRedirected);
            IReadOnlyList<CompareRow> measured;
            try
            {
                measured = await plan.MeasureAsync(measuring, fleet, catalog, work, sloMs, batchSize, cancellationToken);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // Each attached row detached its temporary host on the way out (CompareMeasurer), models and all.
                Console.Error.WriteLine($"accel: interrupted: the comparison stopped before its rows were complete; nothing it attached or loaded is left ({measuring.TempHost} was detached)");
                return ExitInterrupted;
            }

            string rankedBy = CompareRanking.RankedBy(batchSize, callers);
            IReadOnlyList<CompareRow> ordered = CompareRanking.MarkIndistinguishable(CompareRanking.Order(measured, rankedBy), rankedBy);
            if (plan.Baseline is { } basis)
            {
                ordered = CompareRanking.WithBaseline(ordered, basis, rankedBy);
            }

            CompareRow? cheapest = CompareRanking.Cheapest(ordered);
            string note = plan.Slices.Length == 0
                ? ""
                : $"host + accelerator rows were measured once per slice type, attached to temporary host {measuring.TempHost} of type {plan.Hosts[0]}, and priced with each host type ({string.Join(", ", plan.Hosts)})";

            if (parse.GetValue(csv) is { } csvFile)
            {
                CompareCsv.Write(csvFile.FullName, ordered);
            }

            if (chartPath is not null)
            {
                CompareChart.Save(chartPath, ordered, sloMs, rankedBy, width, height);
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
                    batch = batchSize,
                    concurrency = callers,
                    ranked_by = rankedBy,
                    methods = new { order = CompareRanking.OrderMethod, confidence_interval = ConfidenceInterval.BatchMeansMethod, not_distinguishable = CompareRanking.DistinguishMethod },
                    baseline = plan.Baseline,
                    check_accuracy = work.CheckAccuracy,
                    temp_host = plan.Slices.Length == 0 ? null : measuring.TempHost,
                    note,
                    rows = ordered,
                    cheapest = cheapest?.Instance,
                    csv = parse.GetValue(csv)?.FullName,
                    chart = chartPath is null ? null : new { path = chartPath, width, height },
                });
                return 0;
            }

            CompareTable.Print(ordered, new CompareSummary(sloMs, precisionName, batchSize, callers, runs, warmup, rankedBy, plan.Baseline, cheapest, note));
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
}
