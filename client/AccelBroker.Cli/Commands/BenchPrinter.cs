using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;
using AccelBroker.Cli.Measuring;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel bench</c>'s human output: the same figures as <c>--json</c>, each cost labelled with its formula.</summary>
internal static class BenchPrinter
{
    public static void Print(BenchReport r)
    {
        Console.Out.WriteLine($"{r.Model} on {r.Host} eia:{r.Ordinal} ({r.SliceType}, {r.AcceleratorId}), {r.Precision}, inputs {string.Join(", ", r.Inputs.Select(i => $"{i.Dtype} [{string.Join(", ", i.Shape)}]"))}");
        Console.Out.WriteLine($"executed on {r.Device}; {r.Runs} measured runs after {r.Warmup} warm-up run(s) (discarded)");
        Console.Out.WriteLine($"load: {r.Mode}; stop: {r.Stop} (stopped: {r.StoppedBecause})");
        var latency = new Table().AddColumns("latency (ms)", "mean", "P50", "P90", "P95", "P99", "min", "max");
        if (r.LatencyMs is { } l)
        {
            latency.AddRow("end to end", Ms(l.MeanMs), Ms(l.P50Ms), Ms(l.P90Ms), Ms(l.P95Ms), Ms(l.P99Ms), Ms(l.MinMs), Ms(l.MaxMs));
            AnsiConsole.Write(latency);
        }
        else
        {
            Console.Out.WriteLine("no call succeeded: no latency to report");
        }

        Console.Out.WriteLine("percentiles: nearest rank (the smallest sample with at least p % of samples at or below it)");
        Console.Out.WriteLine($"throughput: {r.Throughput.RequestsPerSecond:0.0} requests/s, {r.Throughput.ItemsPerSecond:0.0} items/s (batch {r.Batch})");
        string failures = r.FailuresByStatus.Count == 0 ? "none" : string.Join(", ", r.FailuresByStatus.Select(f => $"{f.Key} {f.Value}"));
        Console.Out.WriteLine($"succeeded {r.Succeeded} of {r.Runs}; failures by status: {failures}" + (r.Rate is null ? "" : $"; arrivals not issued (too many outstanding): {r.NotIssued}"));
        Console.Out.WriteLine($"agent-side means: queue {Ms(r.AgentSplitMs.QueueMs)} ms, decode {Ms(r.AgentSplitMs.DecodeMs)} ms, compute {Ms(r.AgentSplitMs.ComputeMs)} ms, encode {Ms(r.AgentSplitMs.EncodeMs)} ms");
        UsedPrices p = r.Prices;
        string hostPart = p.HostType is null ? "host type not recorded at attach (accel attach --host-type): host not priced" : $"{p.HostType} {Formatting.Price(p.HostPricePerHour ?? 0)}/h";
        Console.Out.WriteLine($"prices: {hostPart} + {p.SliceType} {Formatting.Price(p.SlicePricePerHour)}/h = {Formatting.Price(p.PricePerHour)}/h");
        BenchReport.Intervals ci = r.ConfidenceIntervals;
        Console.Out.WriteLine($"cost per 100k inferences (mean latency): {Usd(r.CostPer100k)}{Interval(ci.CostPer100k, Usd)}; per million items: {Usd(r.CostPerMillionItems)}");
        Console.Out.WriteLine($"  per 100k: {r.CostDefinitions.CostPer100k}");
        Console.Out.WriteLine($"  per 1M (throughput): {Usd(r.CostPerMillionItems)}{Interval(ci.CostPerMillionItems, Usd)}; {r.CostDefinitions.CostPerMillionItems}");
        if (ci.MeanLatencyMs is null)
        {
            Console.Out.WriteLine($"95 % confidence intervals: not available ({ci.Windows} window; they need at least 2)");
        }
        else
        {
            Console.Out.WriteLine($"95 % confidence intervals over {ci.Windows} windows (Student's t over per-window values): mean latency{Interval(ci.MeanLatencyMs, Ms)} ms, requests/s{Interval(ci.RequestsPerSecond, Rate)}, inferences/s{Interval(ci.InferencesPerSecond, Rate)}");
        }

        Console.Out.WriteLine($"stability: {(r.Stable ? "stable" : "not stable")} ({r.WindowRule})");
        BenchReport.CpuInfo cpu = r.GeneratorCpu;
        string machine = cpu.MachineBusyShare is { } busy ? string.Create(CultureInfo.InvariantCulture, $", machine {busy * 100:0} % busy") : "";
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generator CPU: {cpu.ProcessCores:0.00} of {cpu.Cores} cores ({cpu.ProcessShare * 100:0} %){machine}; {cpu.Rule}"));
        if (r.Accuracy is { } accuracy)
        {
            Console.Out.WriteLine($"accuracy of {accuracy.Precision} against {accuracy.Reference} on the same inputs (lowest cosine similarity, largest absolute difference): {accuracy.Describe()}");
        }
    }

    private static string Ms(double ms) => ms.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Rate(double perSecond) => perSecond.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Usd(double? usd) => usd is { } v ? "$" + v.ToString("0.0000", CultureInfo.InvariantCulture) : "n/a";

    private static string Usd(double usd) => Usd((double?)usd);

    private static string Interval(ConfidenceInterval? ci, Func<double, string> format) =>
        ci is null ? " (95 % CI n/a)" : $" (95 % CI {format(ci.Low)} .. {format(ci.High)})";
}
