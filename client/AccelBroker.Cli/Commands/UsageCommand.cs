using System.CommandLine;
using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// <c>accel usage</c>: what each of a host's accelerators did since it was attached: runs, failures, latency
/// as the clients saw it (end to end) and as the agent measured it, and cost per 100,000 inferences.
/// </summary>
internal static class UsageCommand
{
    public static Command Create()
    {
        Option<string> host = CommonOptions.Host();
        Option<int?> ordinal = new("--ordinal") { Description = "Only the accelerator at this ordinal (default: all of the host's)" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("usage", "Show inferences, latency and cost per 100k of a host's accelerators since attach") { host, ordinal, json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            GetUsageResponse response = await fleet.GetUsageAsync(parse.GetValue(host)!, parse.GetValue(ordinal), cancellationToken);
            if (parse.GetValue(json))
            {
                CliJson.Print(new
                {
                    host = response.Host,
                    time = Iso(response.Time?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow),
                    accelerators = response.Accelerators.Select(ToJson),
                });
                return 0;
            }

            Print(response);
            return 0;
        });
        return command;
    }

    private static object ToJson(AcceleratorUsage u)
    {
        Accelerator a = u.Accelerator;
        return new
        {
            ordinal = a.Ordinal,
            type = a.SliceType,
            id = a.Id,
            host_type = a.HostType,
            status = ContractWords.Health(a.Health),
            since = Iso(a.AttachedAt?.ToDateTimeOffset() ?? DateTimeOffset.MinValue),
            inferences = u.Inferences,
            failures = u.Failures,
            client_inferences = u.ClientInferences,
            client_failures = u.ClientFailures,
            rejected_queue_full = u.RejectedQueueFull,
            dropped_deadline = u.DroppedDeadline,
            latency = new
            {
                end_to_end_client = Stats(u.ClientEndToEnd),
                agent = Stats(u.AgentTotal),
                agent_queue = Stats(u.AgentQueue),
                agent_decode = Stats(u.AgentDecode),
                agent_compute = Stats(u.AgentCompute),
                agent_encode = Stats(u.AgentEncode),
            },
            host_price_per_hour = u.HostPricePerHour,
            slice_price_per_hour = u.SlicePricePerHour,
            price_per_hour = u.HostPricePerHour + u.SlicePricePerHour,
            cost_per_100k = u.CostPer100K,
            cost_basis = ContractWords.CostBasis(u.CostBasis),
            models = u.Models.Select(m => new
            {
                model_id = m.ModelId,
                inferences = m.Inferences,
                failures = m.Failures,
                rejected_queue_full = m.RejectedQueueFull,
                dropped_deadline = m.DroppedDeadline,
                end_to_end_client = Stats(m.ClientEndToEnd),
                agent = Stats(m.AgentTotal),
            }),
        };
    }

    // Null when nothing was measured, so a reader can tell "not reported" from "zero".
    private static object? Stats(LatencyStats? s) => s is null || s.Count == 0 ? null : new
    {
        count = s.Count,
        mean_ms = s.MeanSeconds * 1000,
        p50_ms = s.P50Seconds * 1000,
        p90_ms = s.P90Seconds * 1000,
        p95_ms = s.P95Seconds * 1000,
        p99_ms = s.P99Seconds * 1000,
        min_ms = s.MinSeconds * 1000,
        max_ms = s.MaxSeconds * 1000,
    };

    private static void Print(GetUsageResponse response)
    {
        Console.Out.WriteLine($"{response.Accelerators.Count} accelerator(s) attached to {response.Host}");
        foreach (AcceleratorUsage u in response.Accelerators)
        {
            Accelerator a = u.Accelerator;
            string hostType = a.HostType.Length == 0 ? "unknown host type" : a.HostType;
            Console.Out.WriteLine();
            Console.Out.WriteLine($"ordinal {a.Ordinal}  {a.SliceType}  {a.Id}  on {hostType}  since {Iso(a.AttachedAt?.ToDateTimeOffset() ?? DateTimeOffset.MinValue)}");
            Console.Out.WriteLine(Invariant($"inferences {u.Inferences}, failures {u.Failures} (agent); {u.ClientInferences} and {u.ClientFailures} reported by clients"));
            Console.Out.WriteLine(Invariant($"overload: {u.RejectedQueueFull} refused (queue full), {u.DroppedDeadline} dropped (deadline passed while queued)"));
            var table = new Table().AddColumns("latency (ms)", "count", "mean", "P50", "P90", "P95", "P99");
            AddRow(table, "end to end (client)", u.ClientEndToEnd);
            AddRow(table, "agent", u.AgentTotal);
            AddRow(table, "  agent queue", u.AgentQueue);
            AddRow(table, "  agent decode", u.AgentDecode);
            AddRow(table, "  agent compute", u.AgentCompute);
            AddRow(table, "  agent encode", u.AgentEncode);
            AnsiConsole.Write(table);
            string hostPrice = a.HostType.Length == 0 ? "host not priced" : $"host {Formatting.Price(u.HostPricePerHour)}";
            Console.Out.WriteLine($"$/hour: {hostPrice} + slice {Formatting.Price(u.SlicePricePerHour)} = {Formatting.Price(u.HostPricePerHour + u.SlicePricePerHour)}");
            Console.Out.WriteLine(u.CostBasis switch
            {
                CostBasis.EndToEnd => $"cost per 100k inferences: {Cost(u.CostPer100K)} (on the end-to-end mean reported by clients)",
                CostBasis.Agent => $"cost per 100k inferences: {Cost(u.CostPer100K)} (on the agent's mean; no client reported)",
                _ => "cost per 100k inferences: - (no inferences yet)",
            });
        }
    }

    private static void AddRow(Table table, string label, LatencyStats? s)
    {
        if (s is null || s.Count == 0)
        {
            table.AddRow(label, "0", "-", "-", "-", "-", "-");
            return;
        }

        table.AddRow(label, s.Count.ToString(CultureInfo.InvariantCulture), Formatting.Ms(s.MeanSeconds), Formatting.Ms(s.P50Seconds), Formatting.Ms(s.P90Seconds), Formatting.Ms(s.P95Seconds), Formatting.Ms(s.P99Seconds));
    }

    private static string Cost(double dollars) => "$" + dollars.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
