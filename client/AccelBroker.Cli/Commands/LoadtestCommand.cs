using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.LoadTesting;
using AccelBroker.Cli.Measuring;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// <c>accel loadtest</c>: seed 003's staged multi-model load test. Users follow a stage shape (seed 003's by default,
/// or <c>--stages FILE</c>), each sending requests to a random model among those loaded for the test, and every stage
/// reports users, requests/s, percentiles, successes and failures by status; the summary gives max requests/s without
/// error and max concurrent users before the first failure. Exit codes: 0 done, 130 interrupted by Ctrl-C (what was
/// measured is printed and the models unloaded), 2 bad arguments, 1 any other error.
/// </summary>
internal static class LoadtestCommand
{
    public const int ExitInterrupted = 130;
    private const int DefaultSeed = 3;
    private static readonly TimeSpan UnloadLimit = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        Option<FileInfo[]> models = new("--model") { Description = "TorchScript file (.pt) the users call; repeat for more models, chosen at random", Required = true };
        Option<int> copies = new("--copies") { Description = "Load each model this many times under distinct aliases (seed 003's copies of one model)", DefaultValueFactory = _ => 1 };
        Option<string> host = CommonOptions.Host();
        Option<int> ordinal = CommonOptions.Ordinal();
        var inputs = new BenchInputOptions();
        Option<string> precision = CommonOptions.Precision();
        Option<FileInfo?> stages = new("--stages") { Description = "JSON list of {\"duration\", \"users\", \"spawn_rate\"}, duration being the time since the start at which the stage ends (default: seed 003's 10 to 200 users over 330 s)" };
        Option<string?> thinkTime = new("--think-time") { Description = "Pause of each user between its requests, in ms: fixed (100) or a uniform range (50-200)" };
        Option<int> seed = new("--seed") { Description = "Seed of the users' random model choices and think times", DefaultValueFactory = _ => DefaultSeed };
        Option<double?> slo = new("--p95-slo") { Description = "Also report the max users before a stage's P95 went over this many ms" };
        Option<bool> json = CommonOptions.Json();
        Option<FileInfo?> csv = new("--csv") { Description = "Also write one row per stage to this CSV file" };
        Option<FileInfo?> chart = new("--chart") { Description = "Also draw latency and throughput against users, and requests per stage, to FILE-latency, FILE-throughput and FILE-requests (.png or .svg)" };
        Option<string> chartSize = new("--chart-size") { Description = "Chart size in pixels, WIDTHxHEIGHT", DefaultValueFactory = _ => "1200x700" };
        var command = new Command("loadtest", "Seed 003's staged load test: users ramped up in stages send requests to random models; max requests/s without error and max users before the first failure (exit 130 when interrupted)")
        {
            models, copies, host, ordinal, precision, stages, thinkTime, seed, slo, json, csv, chart, chartSize,
        };
        inputs.AddInputsTo(command);
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string[] files = (parse.GetValue(models) ?? []).Select(f => f.FullName).ToArray();
            foreach (string file in files.Where(f => !File.Exists(f)))
            {
                throw new CliUsageException($"model file {file} does not exist");
            }

            int copiesEach = parse.GetValue(copies);
            if (copiesEach is < 1 or > 1000 || files.Length * copiesEach > 1000)
            {
                throw new CliUsageException($"--copies must be between 1 and 1000 and make at most 1000 models in all, got {copiesEach} of {files.Length} model(s)");
            }

            LoadShape shape = parse.GetValue(stages) is { } stagesFile ? LoadShape.FromFile(stagesFile.FullName) : LoadShape.Seed003;
            ThinkTime? think = ThinkTime.Parse(parse.GetValue(thinkTime));
            double? sloMs = parse.GetValue(slo);
            if (sloMs is { } sloValue && !(sloValue > 0 && double.IsFinite(sloValue)))
            {
                throw new CliUsageException($"--p95-slo must be a positive number of milliseconds, got {sloValue}");
            }

            string? chartPath = parse.GetValue(chart)?.FullName;
            (int width, int height) = LoadTestChart.ParseSize(parse.GetValue(chartSize)!);
            if (chartPath is not null)
            {
                _ = LoadTestChart.PathsOf(chartPath);
            }

            Tensor[] tensors = inputs.Build(parse, batch: null);
            IReadOnlyList<(TensorDataType DataType, long[] Shape)> warmup = tensors.Select(t => (t.DataType, t.Shape.ToArray())).ToArray();
            string broker = CommonOptions.RequireBroker(parse);
            string hostName = parse.GetValue(host)!;
            int hostOrdinal = parse.GetValue(ordinal);
            string precisionName = parse.GetValue(precision)!;
            bool asJson = parse.GetValue(json);
            bool live = !asJson && !Console.IsOutputRedirected;

            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            await using AcceleratorSession session = await AcceleratorSession.OpenAsync(
                new AcceleratorSessionOptions { Broker = broker, Host = hostName, Ordinal = hostOrdinal, CaFile = parse.GetValue(CommonOptions.CaFile), HostCredential = CommonOptions.ApiKey(parse) }, cancellationToken);
            var target = new SessionLoadTarget(session, tensors, $"loadtest-{Guid.NewGuid().ToString("N")[..8]}-");
            LoadTestResult? result;
            (IReadOnlyList<string> Unloaded, IReadOnlyList<string> Failures) unloaded;
            try
            {
                var loadOptions = new ModelLoadOptions { Precision = CommonOptions.PrecisionOf(precisionName), WarmupInputs = warmup };
                result = await LoadAndRunAsync(target, files, copiesEach, loadOptions, shape, new LoadTestRun(shape, target, parse.GetValue(seed), think, TimeProvider.System), live, cancellationToken);
            }
            finally
            {
                // Also after Ctrl-C, whose token is cancelled already: the models come off the slice within a limit of their own.
                using var unloadLimit = new CancellationTokenSource(UnloadLimit);
                unloaded = await target.UnloadAllAsync(ct => fleet.OpenSliceAsync(hostName, hostOrdinal, ct), unloadLimit.Token);
            }

            if (result is null)
            {
                Console.Error.WriteLine($"accel: error: interrupted while loading the models; unloaded the {unloaded.Unloaded.Count} it had loaded");
                return ExitInterrupted;
            }

            var report = new LoadTestReport(
                hostName,
                hostOrdinal,
                session.Accelerator.Id,
                session.Accelerator.SliceType,
                precisionName,
                tensors.Select(t => new LoadTestReport.InputSpec(t.DataType.ToString().ToLowerInvariant(), t.Shape.ToArray())).ToArray(),
                parse.GetValue(seed),
                think,
                parse.GetValue(stages)?.FullName ?? "seed 003",
                shape.Stages,
                target.Loaded.Select((m, i) => new LoadTestReport.ModelUse(m.File, m.Alias, m.Model.ModelId, result.RequestsPerModel[i])).ToArray(),
                result.Interrupted,
                result.Seconds,
                result.Stages,
                LoadTestSummary.Of(result.Stages, result.FirstFailure, sloMs),
                unloaded.Unloaded,
                unloaded.Failures);
            if (parse.GetValue(csv)?.FullName is { } csvPath)
            {
                LoadTestCsv.Write(csvPath, result.Stages);
            }

            IReadOnlyList<string> charts = chartPath is null ? [] : LoadTestChart.Save(chartPath, result.Stages, sloMs, width, height);
            if (asJson)
            {
                CliJson.Print(report);
            }
            else
            {
                LoadTestTable.Print(report);
                foreach (string drawn in charts)
                {
                    Console.Out.WriteLine($"chart: {drawn} ({width}x{height})");
                }
            }

            if (unloaded.Failures.Count > 0)
            {
                throw new CliException($"{unloaded.Failures.Count} of the models it loaded could not be unloaded: {string.Join("; ", unloaded.Failures)}");
            }

            if (result.Interrupted)
            {
                Console.Error.WriteLine($"accel: error: interrupted in stage {result.Stages.Count} of {shape.Stages.Count}; printed what was measured and unloaded the {unloaded.Unloaded.Count} models it loaded");
                return ExitInterrupted;
            }

            return 0;
        });
        return command;
    }

    // Null when Ctrl-C came while the models were loading: nothing was measured.
    private static async Task<LoadTestResult?> LoadAndRunAsync(SessionLoadTarget target, string[] files, int copies, ModelLoadOptions options, LoadShape shape, LoadTestRun run, bool live, CancellationToken cancellationToken)
    {
        // Loaded once before the clock starts: the stages measure runs, not uploads.
        try
        {
            await target.LoadAsync(files, copies, options, null, cancellationToken);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled })
        {
            return null;
        }

        Console.Error.WriteLine(FormattableString.Invariant($"accel: loadtest: loaded {target.Models} models as {target.AliasPrefix}0..{target.Models - 1}; {shape.Stages.Count} stages, {shape.Length.TotalSeconds:0.###} s; Ctrl-C stops and unloads them"));
        return live ? await WithProgressAsync(run, shape, cancellationToken) : await run.RunAsync(null, cancellationToken);
    }

    private static async Task<LoadTestResult> WithProgressAsync(LoadTestRun run, LoadShape shape, CancellationToken cancellationToken)
    {
        LoadTestResult? result = null;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                ProgressTask task = context.AddTask("starting", maxValue: shape.Length.TotalSeconds);
                result = await run.RunAsync(
                    p =>
                    {
                        task.Description = FormattableString.Invariant($"stage {p.Stage}/{p.Stages}: {p.Users} users, {p.RequestsPerSecond:0.0} req/s, {p.Failures} failures, {p.Left.TotalSeconds:0} s left");
                        task.Value = Math.Min(shape.Length.TotalSeconds, p.Elapsed.TotalSeconds);
                    },
                    cancellationToken);
            });
        return result!;
    }
}
