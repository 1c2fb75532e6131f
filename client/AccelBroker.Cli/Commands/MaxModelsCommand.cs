using System.CommandLine;
using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Measuring;
using AccelBroker.Cli.Probing;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// <c>accel max-models</c>: seed 003's probe of how many copies of a model one of a host's accelerators holds
/// below its eviction threshold, and what each copy is charged (see <see cref="MaxModelsProbe"/>).
/// </summary>
internal static class MaxModelsCommand
{
    public const int ExitInterrupted = 130;

    public static Command Create()
    {
        Argument<FileInfo> model = new("MODEL") { Description = "TorchScript file (.pt)" };
        Option<string> host = CommonOptions.Host();
        Option<int> ordinal = CommonOptions.Ordinal();
        var inputs = new BenchInputOptions();
        Option<string> precision = CommonOptions.Precision();
        Option<int> maxCopies = new("--max-copies") { Description = "Stop after this many copies even if more would fit", DefaultValueFactory = _ => 1000 };
        Option<bool> keep = new("--keep") { Description = "Leave the copies loaded (aliases max-models-<run>-<n>) instead of unloading them" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command(
            "max-models",
            "Load copies of a model onto an accelerator until the next would pass its eviction threshold; report how many fit and their size")
        {
            model, host, ordinal, precision, maxCopies, keep, json,
        };
        inputs.AddInputsTo(command);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            FileInfo modelFile = parse.GetValue(model)!;
            if (!modelFile.Exists)
            {
                throw new CliException($"model file {modelFile.FullName} does not exist");
            }

            int copies = parse.GetValue(maxCopies);
            if (copies is < 1 or > 100_000)
            {
                throw new CliException($"--max-copies must be between 1 and 100000, got {copies}");
            }

            IReadOnlyList<(TensorDataType DataType, long[] Shape)> warmup = inputs.WarmupSpecs(parse);
            string precisionName = parse.GetValue(precision)!;
            ModelPrecision modelPrecision = CommonOptions.PrecisionOf(precisionName);
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            SliceClient slice = await fleet.OpenSliceAsync(parse.GetValue(host)!, parse.GetValue(ordinal), cancellationToken);
            Accelerator accelerator = slice.Accelerator;
            HeldModel held = await slice.Agent.EnsureModelHeldAsync(modelFile.FullName, cancellationToken);
            var copy = new ModelLoadOptions { Precision = modelPrecision, WarmupInputs = warmup };

            string run = Guid.NewGuid().ToString("N")[..8];
            // Before the first copy nothing is measured: the agent's own estimate plus the warm-up inputs stand in, so
            // a slice already near its threshold evicts nothing.
            var probe = new MaxModelsProbe(
                new AgentProbeSlice(slice, held, copy),
                aliasPrefix: $"max-models-{run}-",
                copies,
                ModelMemoryEstimate.BeforeLoad(modelFile.Length, modelPrecision, warmup),
                parse.GetValue(keep));
            bool asJson = parse.GetValue(json);
            MaxModelsResult result = asJson || Console.IsOutputRedirected
                ? await probe.RunAsync(null, cancellationToken)
                : await WithProgressAsync(probe, cancellationToken);

            if (asJson)
            {
                CliJson.Print(ToJson(modelFile.Name, accelerator, precisionName, warmup, result));
            }
            else
            {
                Print(modelFile.Name, accelerator, precisionName, warmup, result);
            }

            if (result.UnloadFailures.Count > 0)
            {
                throw new CliException($"{result.UnloadFailures.Count} copies could not be unloaded: {string.Join("; ", result.UnloadFailures)}");
            }

            if (result.StoppedBecause == MaxModelsProbe.StopInterrupted)
            {
                Console.Error.WriteLine($"accel: error: interrupted after {result.CopyCharges.Count} copies");
                return ExitInterrupted;
            }

            return 0;
        });
        return command;
    }

    private static async Task<MaxModelsResult> WithProgressAsync(MaxModelsProbe probe, CancellationToken cancellationToken)
    {
        MaxModelsResult? result = null;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                // Fills towards the threshold: copies are charged against the room the slice's other models leave.
                ProgressTask task = context.AddTask("loading copies", maxValue: 1);
                result = await probe.RunAsync(
                    (copies, bytes, room) =>
                    {
                        task.Description = $"{copies} copies, {Formatting.Bytes(bytes)}";
                        task.Value = room > 0 ? Math.Min(1, (double)bytes / room) : 1;
                    },
                    cancellationToken);
            });
        return result!;
    }

    private static object ToJson(string model, Accelerator a, string precision, IReadOnlyList<(TensorDataType DataType, long[] Shape)> warmup, MaxModelsResult r) => new
    {
        model,
        host = a.Host,
        ordinal = a.Ordinal,
        id = a.Id,
        type = a.SliceType,
        device = r.Device,
        precision,
        warmup_inputs = warmup.Select(w => new { dtype = w.DataType.ToString().ToLowerInvariant(), shape = w.Shape }),
        copies = r.CopyCharges.Count,
        bytes_per_copy = r.CopyCharges.Count == 0 ? null : new
        {
            mean = (long)Math.Round(r.CopyCharges.Average()),
            min = r.CopyCharges.Min(),
            max = r.CopyCharges.Max(),
        },
        copies_bytes = r.CopyCharges.Sum(),
        threshold_bytes = r.ThresholdBytes,
        budget_bytes = r.BudgetBytes,
        other_models_bytes = r.OtherModelsBytes,
        other_models = r.OtherModels,
        stopped_because = r.StoppedBecause,
        charged_at_stop_bytes = r.ChargedAtStopBytes,
        next_copy_bytes = r.NextCopyBytes,
        refused_because = r.RefusedBecause.Length == 0 ? null : r.RefusedBecause,
        evicted_model_ids = r.EvictedModelIds,
        kept = r.Kept,
        loaded_model_ids = r.LoadedModelIds,
        unloaded_model_ids = r.UnloadedModelIds,
        unload_failures = r.UnloadFailures,
    };

    private static void Print(string model, Accelerator a, string precision, IReadOnlyList<(TensorDataType DataType, long[] Shape)> warmup, MaxModelsResult r)
    {
        string inputs = warmup.Count == 0
            ? "no warm-up (weights only)"
            : "warm-up " + string.Join(", ", warmup.Select(w => $"{w.DataType.ToString().ToLowerInvariant()} [{string.Join(", ", w.Shape)}]"));
        Console.Out.WriteLine($"{model} on {a.Host} eia:{a.Ordinal} ({a.SliceType}, {a.Id}, {r.Device}), {precision}, {inputs}");
        Console.Out.WriteLine(Invariant($"copies that fit below the threshold: {r.CopyCharges.Count}"));
        if (r.CopyCharges.Count > 0)
        {
            Console.Out.WriteLine(
                $"bytes per copy: mean {Formatting.Bytes((long)Math.Round(r.CopyCharges.Average()))}, min {Formatting.Bytes(r.CopyCharges.Min())}, max {Formatting.Bytes(r.CopyCharges.Max())}");
        }

        double share = r.BudgetBytes > 0 ? (double)r.ThresholdBytes / r.BudgetBytes : 0;
        Console.Out.WriteLine(Invariant(
            $"slice: threshold {Formatting.Bytes(r.ThresholdBytes)} ({share:0.#%} of its {Formatting.Bytes(r.BudgetBytes)} budget); other models held {Formatting.Bytes(r.OtherModelsBytes)} ({r.OtherModels} resident)"));
        Console.Out.WriteLine(r.StoppedBecause switch
        {
            MaxModelsProbe.StopThreshold => $"stopped: one more copy (about {Formatting.Bytes(r.NextCopyBytes)}) would take the slice from {Formatting.Bytes(r.ChargedAtStopBytes)} past its threshold",
            MaxModelsProbe.StopEvicted => $"stopped: the next copy ({Formatting.Bytes(r.NextCopyBytes)}) came out larger and evicted {string.Join(", ", r.EvictedModelIds)} (they reload on their next run); it is not counted",
            MaxModelsProbe.StopRefused => $"stopped: the agent refused the next copy: {r.RefusedBecause}",
            MaxModelsProbe.StopMaxCopies => Invariant($"stopped: --max-copies reached, more may fit (slice at {Formatting.Bytes(r.ChargedAtStopBytes)})"),
            _ => "stopped: interrupted",
        });
        Console.Out.WriteLine(r.Kept
            ? Invariant($"kept {r.LoadedModelIds.Count} copies loaded: {string.Join(", ", r.LoadedModelIds)}")
            : Invariant($"unloaded {r.UnloadedModelIds.Count} of {r.LoadedModelIds.Count} copies"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
