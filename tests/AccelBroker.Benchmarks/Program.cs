using AccelBroker.Client;

namespace AccelBroker.Benchmarks;

/// <summary>
/// Measures the speed targets as ratios, in one run, on loopback: remote against the bare
/// transport or against in-process TorchSharp. Exit code 0 when every benchmark ran (targets missed or
/// not: this is a report), 1 when one crashed, 2 for a bad command line.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        BenchmarkSettings settings;
        try
        {
            settings = BenchmarkSettings.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            await Console.Error.WriteLineAsync(BenchmarkSettings.Usage);
            return 2;
        }

        if (settings.Help)
        {
            Console.WriteLine(BenchmarkSettings.Usage);
            return 0;
        }

        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };

        try
        {
            return await RunAsync(settings, args, cancellation.Token);
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"error: the benchmark run failed: {ex}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(BenchmarkSettings settings, string[] args, CancellationToken cancellationToken)
    {
        RepoPaths paths = RepoPaths.Find();
        var largeModels = new LargeModels(paths);
        IBenchmark[] all = [new TinyBenchmark(), new AuthBenchmark(), new ResNet18Benchmark(), new Tensor64Benchmark(), new Model100Benchmark(), new BatchingBenchmark(), new FailoverBenchmark(), new DrainBenchmark(), new LoadGenBenchmark(), new SoakBenchmark()];
        IBenchmark[] selected = all.Where(b => settings.Selected.Contains(b.Name)).ToArray();

        // The agent sets libtorch's process-wide intra-op pool; the in-process baseline then shares it.
        await using LoopbackCluster cluster = await LoopbackCluster.StartAsync(Environment.ProcessorCount, cancellationToken);
        var environment = RunEnvironment.Capture(settings, args);
        foreach (string line in environment.Describe())
        {
            Console.WriteLine(line);
        }

        AcceleratorInfo accelerator = cluster.Session.Accelerator;
        Console.WriteLine($"agent     : {accelerator.AgentAddress} (device kind {accelerator.Device}), accelerator {accelerator.Id} ({accelerator.SliceType})");

        var context = new BenchmarkContext(cluster, paths, largeModels, settings.Quick, settings.SoakMinutes);
        var results = new List<BenchmarkResult>();
        foreach (IBenchmark benchmark in selected)
        {
            Console.WriteLine();
            Console.WriteLine($"== {benchmark.Name}: {benchmark.Title}");
            BenchmarkResult result = await RunOneAsync(benchmark, context, cancellationToken);
            results.Add(result);
            foreach (string detail in result.Details)
            {
                Console.WriteLine($"  {detail}");
            }

            Console.WriteLine(result.Outcome switch
            {
                Outcome.Skipped => $"  SKIPPED: {result.Error}",
                Outcome.Crashed => $"  CRASHED: {result.Error}",
                _ => $"  {result.Metric} = {result.ValueText}; target {result.Target}; device {result.Device}: {ResultReport.Label(result.Outcome)}",
            });
        }

        ResultReport.PrintTable(results, environment);
        if (settings.JsonPath is { } json)
        {
            await ResultReport.WriteJsonAsync(json, results, environment);
            Console.WriteLine($"wrote {Path.GetFullPath(json)}");
        }

        return results.Any(r => r.Outcome == Outcome.Crashed) ? 1 : 0;
    }

    private static async Task<BenchmarkResult> RunOneAsync(IBenchmark benchmark, BenchmarkContext context, CancellationToken cancellationToken)
    {
        try
        {
            return await benchmark.RunAsync(context, cancellationToken);
        }
        catch (SkipBenchmarkException ex)
        {
            return new BenchmarkResult { Name = benchmark.Name, Title = benchmark.Title, Outcome = Outcome.Skipped, ValueText = "-", Error = ex.Message };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new BenchmarkResult { Name = benchmark.Name, Title = benchmark.Title, Outcome = Outcome.Crashed, ValueText = "-", Error = ex.ToString() };
        }
    }
}
