using System.CommandLine;
using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Load;
using AccelBroker.Cli.Measuring;
using AccelBroker.Client;
using AccelBroker.Client.Pricing;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// <c>accel bench</c>: seed 002's measurement on one of a host's accelerators, one caller by default, or under load
/// (<c>--concurrency</c>, <c>--rate</c>): latency distribution, throughput, failures by status, the executing device,
/// the agent's own split, both seeds' costs with their confidence intervals, and whether the windows were stable.
/// </summary>
internal static class BenchCommand
{
    /// <summary>Exit code after Ctrl-C, as the shell reports a process ended by SIGINT.</summary>
    public const int ExitInterrupted = 130;

    private static readonly TimeSpan UnloadLimit = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        Argument<FileInfo> model = new("MODEL") { Description = "TorchScript file (.pt)" };
        Option<string> host = CommonOptions.Host();
        Option<int> ordinal = CommonOptions.Ordinal();
        var inputs = new BenchInputOptions();
        var load = new LoadOptions();
        Option<int?> batch = new("--batch") { Description = "Batch size: first dimension of --input-shape, or --input tensors repeated along dimension 0" };
        Option<string> precision = CommonOptions.Precision();
        Option<string?> prices = CommonOptions.Prices();
        Option<bool> json = CommonOptions.Json();
        Option<bool> checkAccuracy = CommonOptions.CheckAccuracy();
        var command = new Command("bench", "Measure a model's latency, throughput and cost on a host's accelerator, one caller at a time or under load") { model, host, ordinal, batch, precision, prices, json, checkAccuracy };
        inputs.AddTo(command);
        load.AddTo(command);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string modelPath = parse.GetValue(model)!.FullName;
            if (!File.Exists(modelPath))
            {
                throw new CliException($"model file {modelPath} does not exist");
            }

            (int runs, int warmup) = inputs.Counts(parse);
            LoadMode mode = load.Mode(parse);
            StopRule stop = load.Stop(parse, runs);
            Tensor[] tensors = inputs.Build(parse, parse.GetValue(batch));
            string broker = CommonOptions.RequireBroker(parse);
            string hostName = parse.GetValue(host)!;
            int hostOrdinal = parse.GetValue(ordinal);

            using var fleet = new FleetClient(CommonOptions.FleetOptions(parse));
            PriceCatalog catalog = await PriceSource.LoadAsync(fleet, parse.GetValue(prices), cancellationToken);
            Accelerator resolved = await fleet.ResolveAcceleratorAsync(hostName, hostOrdinal, cancellationToken);
            UsedPrices used = UsedPrices.For(catalog, resolved);
            ModelPrecision modelPrecision = CommonOptions.PrecisionOf(parse.GetValue(precision)!);
            bool check = parse.GetValue(checkAccuracy);
            // What the slice holds already stays: only what bench itself loaded goes (an fp32 reference after an accuracy
            // check; the benched model after Ctrl-C).
            IReadOnlySet<string> heldBefore = await HeldModelsAsync(fleet, hostName, hostOrdinal, cancellationToken);

            using AcceleratorSession session = await AcceleratorSession.OpenAsync(
                new AcceleratorSessionOptions { Broker = broker, Host = hostName, Ordinal = hostOrdinal, CaFile = parse.GetValue(CommonOptions.CaFile), HostCredential = CommonOptions.ApiKey(parse) }, cancellationToken);
            // A finished bench leaves the model loaded: the slice may be the user's, about to run this model for real.
            RemoteModel loaded = await session.LoadModelAsync(modelPath, new ModelLoadOptions { Precision = modelPrecision }, cancellationToken);
            bool asJson = parse.GetValue(json);
            SessionLoad.Result measured = asJson || Console.IsOutputRedirected
                ? await SessionLoad.MeasureAsync(session, loaded, tensors, warmup, mode, stop, null, LoadEngine.System, cancellationToken)
                : await WithLoadProgressAsync(stop, tick => SessionLoad.MeasureAsync(session, loaded, tensors, warmup, mode, stop, tick, LoadEngine.System, cancellationToken));
            if (measured.Load.Interrupted)
            {
                Console.Error.WriteLine($"accel: interrupted: nothing is reported; {await LeaveAsFoundAsync(session, loaded, heldBefore)}");
                return ExitInterrupted;
            }

            AccuracyResult? accuracy = check
                ? await AccuracyCheck.AgainstFp32Async(session, modelPath, loaded, modelPrecision, heldBefore.Contains, tensors, cancellationToken)
                : null;
            var report = BenchReport.Create(Path.GetFileName(modelPath), session.Accelerator, parse.GetValue(precision)!, tensors, warmup, measured, used, accuracy);
            if (asJson)
            {
                CliJson.Print(report);
            }
            else
            {
                BenchPrinter.Print(report);
            }

            foreach (string warning in report.Warnings)
            {
                Console.Error.WriteLine($"accel: {warning}");
            }

            return 0;
        });
        return command;
    }

    // After Ctrl-C: the model goes unless the slice held it before bench (then it is someone else's to unload).
    private static async Task<string> LeaveAsFoundAsync(AcceleratorSession session, RemoteModel loaded, IReadOnlySet<string> heldBefore)
    {
        if (heldBefore.Contains(loaded.ModelId))
        {
            return $"{loaded.ModelId} stays loaded, as the slice held it before";
        }

        using var limit = new CancellationTokenSource(UnloadLimit);
        try
        {
            await session.UnloadModelAsync(loaded, limit.Token);
            return $"the model it loaded ({loaded.ModelId}) was unloaded";
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            return $"could not unload the model it loaded ({loaded.ModelId}): {ex.Message}";
        }
    }

    /// <summary>The ids of the models a slice holds now: what a tool that loads models beside them must leave loaded.</summary>
    public static async Task<IReadOnlySet<string>> HeldModelsAsync(FleetClient fleet, string host, int ordinal, CancellationToken cancellationToken)
    {
        SliceClient slice = await fleet.OpenSliceAsync(host, ordinal, cancellationToken);
        ListModelsResponse held = await slice.ListModelsAsync(cancellationToken);
        return held.Models.Select(m => m.ModelId).ToHashSet(StringComparer.Ordinal);
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

    /// <summary>A Spectre progress bar over the stop rule: requests completed, or seconds elapsed.</summary>
    public static async Task<T> WithLoadProgressAsync<T>(StopRule stop, Func<Action<LoadProgress>, Task<T>> measure)
    {
        T? result = default;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                bool byCount = stop.Requests is not null;
                ProgressTask task = context.AddTask("measuring", maxValue: byCount ? stop.Requests!.Value : stop.TimeLimit.TotalSeconds);
                result = await measure(p => task.Value = byCount ? p.Completed : Math.Min(p.Elapsed.TotalSeconds, task.MaxValue));
            });
        return result!;
    }
}
