using System.CommandLine;
using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Measuring;
using AccelBroker.Client;
using AccelBroker.Client.Pricing;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// <c>accel bench</c>: seed 002's measurement on one of a host's accelerators: latency distribution, throughput,
/// the executing device, the agent's own split, and cost per 100k inferences at the prices used.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        Argument<FileInfo> model = new("MODEL") { Description = "TorchScript file (.pt)" };
        Option<string> host = CommonOptions.Host();
        Option<int> ordinal = CommonOptions.Ordinal();
        var inputs = new BenchInputOptions();
        Option<int?> batch = new("--batch") { Description = "Batch size: first dimension of --input-shape, or --input tensors repeated along dimension 0" };
        Option<string> precision = CommonOptions.Precision();
        Option<string?> prices = CommonOptions.Prices();
        Option<bool> json = CommonOptions.Json();
        var command = new Command("bench", "Measure a model's latency, throughput and cost per 100k inferences on a host's accelerator") { model, host, ordinal, batch, precision, prices, json };
        inputs.AddTo(command);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string modelPath = parse.GetValue(model)!.FullName;
            if (!File.Exists(modelPath))
            {
                throw new CliException($"model file {modelPath} does not exist");
            }

            (int runs, int warmup) = inputs.Counts(parse);
            Tensor[] tensors = inputs.Build(parse, parse.GetValue(batch));
            string broker = CommonOptions.RequireBroker(parse);
            string hostName = parse.GetValue(host)!;
            int hostOrdinal = parse.GetValue(ordinal);

            using var fleet = new FleetClient(CommonOptions.FleetOptions(parse));
            PriceCatalog catalog = await PriceSource.LoadAsync(fleet, parse.GetValue(prices), cancellationToken);
            Accelerator resolved = await fleet.ResolveAcceleratorAsync(hostName, hostOrdinal, cancellationToken);
            UsedPrices used = UsedPrices.For(catalog, resolved);

            using AcceleratorSession session = await AcceleratorSession.OpenAsync(
                new AcceleratorSessionOptions { Broker = broker, Host = hostName, Ordinal = hostOrdinal, CaFile = parse.GetValue(CommonOptions.CaFile), HostCredential = CommonOptions.ApiKey(parse) }, cancellationToken);
            ModelPrecision modelPrecision = CommonOptions.PrecisionOf(parse.GetValue(precision)!);
            bool asJson = parse.GetValue(json);
            Measurement measured = asJson || Console.IsOutputRedirected
                ? await SessionBenchmark.MeasureAsync(session, modelPath, modelPrecision, tensors, runs, warmup, null, cancellationToken)
                : await WithProgressAsync(runs, tick => SessionBenchmark.MeasureAsync(session, modelPath, modelPrecision, tensors, runs, warmup, tick, cancellationToken));

            var report = BenchReport.Create(Path.GetFileName(modelPath), session.Accelerator, parse.GetValue(precision)!, tensors, runs, warmup, measured, used);
            if (asJson)
            {
                CliJson.Print(report);
            }
            else
            {
                Print(report);
            }

            return 0;
        });
        return command;
    }

    /// <summary>A Spectre progress bar ticking once per measured run.</summary>
    public static async Task<Measurement> WithProgressAsync(int runs, Func<Action, Task<Measurement>> measure)
    {
        Measurement? result = null;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                ProgressTask task = context.AddTask("measuring", maxValue: runs);
                result = await measure(() => task.Increment(1));
            });
        return result!;
    }

    private static void Print(BenchReport r)
    {
        static string Ms(double ms) => ms.ToString("0.000", CultureInfo.InvariantCulture);
        static string Usd(double usd) => "$" + usd.ToString("0.0000", CultureInfo.InvariantCulture);
        Console.Out.WriteLine($"{r.Model} on {r.Host} eia:{r.Ordinal} ({r.SliceType}, {r.AcceleratorId}), {r.Precision}, inputs {string.Join(", ", r.Inputs.Select(i => $"{i.Dtype} [{string.Join(", ", i.Shape)}]"))}");
        Console.Out.WriteLine($"executed on {r.Device}; {r.Runs} measured runs after {r.Warmup} warm-up run(s) (discarded)");
        var latency = new Table().AddColumns("latency (ms)", "mean", "P50", "P90", "P95", "P99", "min", "max");
        LatencySummary l = r.LatencyMs;
        latency.AddRow("end to end", Ms(l.MeanMs), Ms(l.P50Ms), Ms(l.P90Ms), Ms(l.P95Ms), Ms(l.P99Ms), Ms(l.MinMs), Ms(l.MaxMs));
        AnsiConsole.Write(latency);
        Console.Out.WriteLine("percentiles: nearest rank (the smallest sample with at least p % of samples at or below it)");
        Console.Out.WriteLine($"throughput: {r.Throughput.RequestsPerSecond:0.0} requests/s, {r.Throughput.ItemsPerSecond:0.0} items/s (batch {r.Batch})");
        Console.Out.WriteLine($"agent-side means: queue {Ms(r.AgentSplitMs.QueueMs)} ms, decode {Ms(r.AgentSplitMs.DecodeMs)} ms, compute {Ms(r.AgentSplitMs.ComputeMs)} ms, encode {Ms(r.AgentSplitMs.EncodeMs)} ms");
        UsedPrices p = r.Prices;
        string hostPart = p.HostType is null ? "host type not recorded at attach (accel attach --host-type): host not priced" : $"{p.HostType} {Formatting.Price(p.HostPricePerHour ?? 0)}/h";
        Console.Out.WriteLine($"prices: {hostPart} + {p.SliceType} {Formatting.Price(p.SlicePricePerHour)}/h = {Formatting.Price(p.PricePerHour)}/h");
        Console.Out.WriteLine($"cost per 100k inferences (mean latency): {Usd(r.CostPer100k)}; per million items: {Usd(r.CostPerMillionItems)}");
    }
}
