using System.Globalization;
using AccelBroker.Agent.Internal;
using AccelBroker.Hosting.Metrics;

namespace AccelBroker.Agent;

/// <summary>Entry point of the accelerator agent.</summary>
public static class Program
{
    private const string Usage = """
        Usage: AccelBroker.Agent [--broker URL] [--listen URL] [--device cpu|cuda:N] [--instance-type NAME]
                                 [--advertise URL] [--memory-mib N] [--compute F] [--data-dir DIR] [--agent-id ID]
                                 [--model-store-mib N] [--eviction-threshold F] [--slots N] [--threads N] [--huge-pages]
                                 [--metrics-listen URL|off] [--otlp-endpoint URL]

        Runs an AccelBroker accelerator agent: it executes TorchScript models with TorchSharp for the slices the
        broker places on it, and serves clients directly over gRPC (HTTP/2).

        Options:
          --broker URL          Broker to register with (omit to run standalone).
          --listen URL          Address to listen on (default http://127.0.0.1:7001; port 0 picks a free one).
          --device D            cpu (default) or cuda:N; CUDA needs the -p:TorchBackend=cuda build and a GPU.
          --instance-type NAME  Instance type of this machine, for cost reports (e.g. g4dn.xlarge).
          --advertise URL       Address clients should use (default: the bound listen address).
          --memory-mib N        Accelerator memory offered to slices (default: half the RAM on cpu, 90% on cuda).
          --compute F           Share of the device offered to slices, 0 < F <= 1 (default 1).
          --data-dir DIR        Where uploaded models are kept (default: a folder under the temp path).
          --model-store-mib N   Disk for uploaded models; least recently used ones go past it (default 20480).
          --eviction-threshold F
                                A load taking a slice past F of its memory first unloads the least recently used
                                idle models, which reload on their next run (0 < F <= 1, default 0.9).
          --agent-id ID         Identity to register under (default: assigned by the broker).
          --slots N             Forward passes run at once (default 1).
          --threads N           libtorch intra-op threads (default: cores / slots, so passes at once do not
                                oversubscribe the cores).
          --huge-pages          Back large CPU tensors with transparent huge pages (faster large inputs).
          --metrics-listen URL  Serve Prometheus metrics at URL/metrics over HTTP/1.1 and report it to the broker
                                (default: a free port on the --listen host); off serves none.
          --otlp-endpoint URL   Export traces over OTLP/HTTP to URL (for example http://127.0.0.1:4318);
                                default: none.
          -h, --help            Show this help.
        """;

    /// <summary>Runs the agent until it is stopped (Ctrl+C or SIGTERM).</summary>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == Isolation.Worker.WorkerMain.Verb)
        {
            return Isolation.Worker.WorkerMain.Run(args[1..]);
        }

        AgentOptions options;
        try
        {
            AgentOptions? parsed = Parse(args);
            if (parsed is null)
            {
                Console.WriteLine(Usage);
                return 0;
            }

            options = parsed;
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            Console.Error.WriteLine("Run with --help for usage.");
            return 2;
        }

        try
        {
            await using WebApplication app = AgentHost.Build(options);
            await app.RunAsync();
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }

    internal static AgentOptions? Parse(IReadOnlyList<string> args)
    {
        var options = new AgentOptions();
        string? metricsListen = null;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help")
            {
                return null;
            }

            string name = arg;
            string? value = null;
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                value = arg[(equals + 1)..];
            }

            if (arg == "--huge-pages")
            {
                options = options with { HugePageAllocation = true };
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new FormatException($"unexpected argument '{arg}'");
            }

            value ??= i + 1 < args.Count ? args[++i] : throw new FormatException($"option {name} needs a value");
            options = name switch
            {
                "--broker" => options with { BrokerAddress = Url(name, value) },
                "--listen" => options with { Listen = Url(name, value) },
                "--advertise" => options with { AdvertiseAddress = Url(name, value) },
                "--device" => options with { Device = value },
                "--instance-type" => options with { InstanceType = value },
                "--memory-mib" => options with { MemoryBytes = Positive(name, value) * 1024 * 1024 },
                "--model-store-mib" => options with { ModelStoreBytes = Positive(name, value) * 1024 * 1024 },
                "--compute" => options with { Compute = Share(name, value) },
                "--eviction-threshold" => options with { EvictionThreshold = Share(name, value) },
                "--data-dir" => options with { DataDirectory = value },
                "--agent-id" => options with { AgentId = value },
                "--slots" => options with { ExecutionSlots = (int)Positive(name, value) },
                "--threads" => options with { IntraOpThreads = (int)Positive(name, value) },
                "--otlp-endpoint" => options with { OtlpEndpoint = Url(name, value) },
                "--metrics-listen" => options with { MetricsListen = (metricsListen = value) == "off" ? null : MetricsUrl(name, value) },
                _ => throw new FormatException($"unknown option '{name}'"),
            };
        }

        // The executable serves metrics by default, on a free port of the host it listens on.
        return metricsListen is null ? options with { MetricsListen = DefaultMetricsListen(options.Listen) } : options;
    }

    private static string DefaultMetricsListen(string listen)
    {
        var uri = new UriBuilder(listen) { Scheme = Uri.UriSchemeHttp, Port = 0, Path = "" };
        if (uri.Host == "localhost")
        {
            // Kestrel cannot pick one free port for both of localhost's addresses.
            uri.Host = "127.0.0.1";
        }

        return uri.Uri.ToString().TrimEnd('/');
    }

    private static string Url(string name, string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? value.TrimEnd('/')
            : throw new FormatException($"{name} '{value}' is not an absolute http or https URL");

    private static string MetricsUrl(string name, string value) =>
        MetricsEndpoint.FindProblem(value, listen: "") is { } problem ? throw new FormatException($"{name}: {problem}") : value.TrimEnd('/');

    private static long Positive(string name, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 && n < int.MaxValue
            ? n
            : throw new FormatException($"{name} needs a positive whole number, got '{value}'");

    private static double Share(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && f > 0 && f <= 1
            ? f
            : throw new FormatException($"{name} needs a number in (0, 1], got '{value}'");
}
