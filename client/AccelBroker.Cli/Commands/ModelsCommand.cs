using System.CommandLine;
using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// <c>accel models</c>: the models one of a host's accelerators holds, resident or evicted, what each is charged,
/// and the slice's budget, eviction threshold, loads and evictions. Asked of the agent directly.
/// </summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        Option<string> host = CommonOptions.Host();
        Option<int> ordinal = CommonOptions.Ordinal();
        Option<bool> json = CommonOptions.Json();
        var command = new Command("models", "List the models an accelerator holds and the memory each is charged") { host, ordinal, json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            SliceClient slice = await fleet.OpenSliceAsync(parse.GetValue(host)!, parse.GetValue(ordinal), cancellationToken);
            ListModelsResponse models = await slice.ListModelsAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                CliJson.Print(ToJson(slice.Accelerator, models));
            }
            else
            {
                Print(slice.Accelerator, models);
            }

            return 0;
        });
        return command;
    }

    private static object ToJson(Accelerator a, ListModelsResponse r) => new
    {
        host = a.Host,
        ordinal = a.Ordinal,
        id = r.SliceId,
        type = a.SliceType,
        device = r.Device,
        budget_bytes = r.BudgetBytes,
        threshold_bytes = r.ThresholdBytes,
        charged_bytes = r.ChargedBytes,
        models_resident = r.Models.Count(m => m.Resident),
        loads = r.Loads,
        evictions = r.Evictions,
        models = r.Models.Select(m => new
        {
            model_id = m.ModelId,
            alias = m.Alias,
            sha256 = m.Sha256,
            precision = Formatting.Precision(m.Precision),
            resident = m.Resident,
            state = State(m),
            charged_bytes = m.ChargedBytes,
            last_used = Formatting.Iso(LastUsed(m)),
            load_count = m.LoadCount,
            runs = m.Runs,
            batching = m.Batching is { MaxBatchSize: > 1 } b ? new { max_batch_size = b.MaxBatchSize, max_delay_us = b.MaxDelayMicros } : null,
        }),
    };

    private static void Print(Accelerator a, ListModelsResponse r)
    {
        double share = r.BudgetBytes > 0 ? (double)r.ThresholdBytes / r.BudgetBytes : 0;
        Console.Out.WriteLine($"{a.Host} eia:{a.Ordinal} ({a.SliceType}, {r.SliceId}) on {r.Device}");
        Console.Out.WriteLine(Invariant(
            $"memory: {Formatting.Bytes(r.ChargedBytes)} charged of {Formatting.Bytes(r.BudgetBytes)}; loads past {Formatting.Bytes(r.ThresholdBytes)} ({share:0.#%}) evict the least recently used idle models"));
        Console.Out.WriteLine(Invariant($"{r.Models.Count(m => m.Resident)} of {r.Models.Count} model(s) resident; {r.Loads} load(s) and {r.Evictions} eviction(s) since attach"));
        if (r.Models.Count == 0)
        {
            return;
        }

        var table = new Table().AddColumns("model id", "alias", "precision", "state", "charged", "last used (UTC)", "loads", "runs", "batching");
        foreach (SliceModel m in r.Models)
        {
            table.AddRow(
                Markup.Escape(m.ModelId),
                Markup.Escape(m.Alias.Length == 0 ? "-" : m.Alias),
                Formatting.Precision(m.Precision),
                State(m),
                m.Resident ? Formatting.Bytes(m.ChargedBytes) : $"({Formatting.Bytes(m.ChargedBytes)})",
                Formatting.Iso(LastUsed(m)),
                m.LoadCount.ToString(CultureInfo.InvariantCulture),
                m.Runs.ToString(CultureInfo.InvariantCulture),
                m.Batching is { MaxBatchSize: > 1 } b ? Invariant($"max {b.MaxBatchSize}, {b.MaxDelayMicros} us") : "off");
        }

        AnsiConsole.Write(table);
        Console.Out.WriteLine("charged: what a resident model holds (CPU: weights, buffers and the warm-up's peak; CUDA: device memory its load took);");
        Console.Out.WriteLine("in parentheses what an evicted model held, which its next run reloads.");
    }

    private static string State(SliceModel m) => m.Resident ? "resident" : "evicted";

    private static DateTimeOffset LastUsed(SliceModel m) => m.LastUsed?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
