using System.CommandLine;
using System.Diagnostics;
using AccelBroker.Cli.Hosting;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary>
/// <c>accel demo</c>: the embedded default. A broker and a CPU agent on loopback in this process, one
/// attached accelerator, and the bundled model run through <see cref="AcceleratorSession"/> over gRPC.
/// </summary>
internal static class DemoCommand
{
    private const string DemoHost = "demo-host";

    public static Command Create()
    {
        Option<int> count = new("-n") { Description = "Inferences to run; the first is discarded as warm-up", DefaultValueFactory = _ => 1000 };
        Option<FileInfo?> model = new("--model") { Description = "TorchScript model (default: the bundled demo_mlp.pt, input 1x16)" };
        Option<string> sliceType = new("--type") { Description = "Slice type to attach", DefaultValueFactory = _ => "eia2.medium" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("demo", "Start a broker and a CPU agent on loopback, attach an accelerator and measure a bundled model") { count, model, sliceType, json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            int n = parse.GetValue(count);
            if (n < 2)
            {
                throw new CliException("-n must be at least 2 (the first run is discarded)");
            }

            string modelPath = parse.GetValue(model)?.FullName ?? Path.Combine(AppContext.BaseDirectory, "models", "demo_mlp.pt");
            if (!File.Exists(modelPath))
            {
                throw new CliException($"model '{modelPath}' not found");
            }

            bool asJson = parse.GetValue(json);
            void Say(string line)
            {
                if (!asJson)
                {
                    Console.Out.WriteLine(line);
                }
            }

            await using LoopbackFleet fleet = await LoopbackFleet.StartAsync(new LoopbackFleetOptions(), cancellationToken);
            Say($"broker listening on {fleet.BrokerUrl}");
            Say($"cpu agent listening on {fleet.AgentUrl}");
            Accelerator accelerator = await fleet.AttachAsync(DemoHost, parse.GetValue(sliceType)!, cancellationToken);
            Say($"attached {accelerator.SliceType} to {DemoHost} as eia:{accelerator.Ordinal} ({accelerator.Id})");

            using AcceleratorSession session = await fleet.OpenSessionAsync(DemoHost, accelerator.Ordinal, cancellationToken: cancellationToken);
            RemoteModel remote = await session.LoadModelAsync(modelPath, cancellationToken: cancellationToken);
            Tensor input = DemoInput(modelPath);
            var samples = new List<double>(n - 1);
            string device = "";
            for (int i = 0; i < n; i++)
            {
                long started = Stopwatch.GetTimestamp();
                ModelOutput output = await session.RunAsync(remote, [input], cancellationToken);
                double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                device = output.Device;
                if (i > 0)
                {
                    samples.Add(ms);
                }
            }

            LatencySummary summary = LatencySummary.Of(samples);
            await fleet.BrokerClient.DetachAsync(new DetachRequest { Host = DemoHost, Ordinal = accelerator.Ordinal }, deadline: LoopbackFleet.Deadline(), cancellationToken: cancellationToken);
            Report(asJson, Path.GetFileName(modelPath), input, device, accelerator, summary);
            Say($"detached {accelerator.Id}; stopping");
            return 0;
        });
        return command;
    }

    // The bundled model takes float32 [1, 16]; a model given with --model gets its example input from a
    // sibling MODEL.input0.npy when there is one.
    private static Tensor DemoInput(string modelPath)
    {
        string example = Path.ChangeExtension(modelPath, ".input0.npy");
        if (File.Exists(example))
        {
            return Npy.Read(example);
        }

        var random = new Random(42);
        return Tensor.FromArray(Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble()).ToArray(), 1, 16);
    }

    private static void Report(bool asJson, string model, Tensor input, string device, Accelerator accelerator, LatencySummary summary)
    {
        if (asJson)
        {
            CliJson.Print(new
            {
                model,
                input = input.ToString(),
                device,
                measured_on = Environment.MachineName,
                slice_type = accelerator.SliceType,
                inferences = summary.Count,
                latency_ms = new { mean = summary.MeanMs, p50 = summary.P50Ms, p90 = summary.P90Ms, p95 = summary.P95Ms, p99 = summary.P99Ms, min = summary.MinMs, max = summary.MaxMs },
            });
            return;
        }

        var table = new Table().AddColumns("model", "device", "inferences", "mean ms", "P50 ms", "P90 ms", "P95 ms");
        table.AddRow(model, device, summary.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), F(summary.MeanMs), F(summary.P50Ms), F(summary.P90Ms), F(summary.P95Ms));
        AnsiConsole.Write(table);
        Console.Out.WriteLine($"executed on {device} by an agent on this machine ({Environment.MachineName}), end to end through AcceleratorSession.Run over gRPC on loopback; first run discarded");
    }

    private static string F(double ms) => ms.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
}
