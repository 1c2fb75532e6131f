using System.Globalization;
using AccelBroker.Broker.Internal;
using AccelBroker.Hosting.Metrics;

namespace AccelBroker.Broker;

/// <summary>Parses the broker's command line: <c>--listen URL [--metrics-listen URL|off] [--catalog FILE] [--prices FILE] [--data-dir DIR] [--usage-save-interval SECONDS] [--heartbeat-interval SECONDS]</c>.</summary>
internal sealed record BrokerCommandLine(BrokerOptions? Options, bool ShowHelp, string? Error)
{
    /// <summary>The executable serves metrics unless told not to (Prometheus exporters' customary port).</summary>
    public const string DefaultMetricsListen = "http://127.0.0.1:9464";

    public const string Usage = """
        Usage: AccelBroker.Broker [--listen URL] [--metrics-listen URL|off] [--catalog FILE] [--prices FILE]
                                  [--data-dir DIR] [--usage-save-interval SECONDS] [--heartbeat-interval SECONDS]

        Runs the AccelBroker broker: it keeps the fleet of accelerator agents, the slice-type catalogue and the
        attachments of slices to client hosts. It serves gRPC over HTTP/2 (h2c for http URLs).

        Options:
          --listen URL                  Address to listen on (default http://127.0.0.1:5050; port 0 picks a free one).
          --metrics-listen URL|off      Serve Prometheus metrics at URL/metrics over HTTP/1.1 (default
                                        http://127.0.0.1:9464; port 0 picks a free one); off serves none.
          --catalog FILE                Slice-type catalogue (JSON); default: eia2.medium, eia2.large, eia2.xlarge.
          --prices FILE                 Instance and slice prices (JSON) that extend or replace the built-in ones.
          --data-dir DIR                Keep attachments (DIR/attachments.json) and usage since attach (DIR/usage.json,
                                        saved while it changes and on shutdown) across restarts (default: in memory).
          --usage-save-interval SECONDS Save usage.json at most this often (default 5): what a crash can lose.
          --heartbeat-interval SECONDS  Heartbeat interval told to agents (default 2); an agent is unhealthy after
                                        3 intervals without a heartbeat.
          -h, --help                    Show this help.
        """;

    public static BrokerCommandLine Parse(IReadOnlyList<string> args)
    {
        var options = new BrokerOptions { MetricsListen = DefaultMetricsListen };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help" or "-?")
            {
                return new BrokerCommandLine(null, ShowHelp: true, null);
            }

            // Both "--name value" and "--name=value".
            string name = arg;
            string? value = null;
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                value = arg[(equals + 1)..];
            }

            if (name is not ("--listen" or "--metrics-listen" or "--catalog" or "--prices" or "--data-dir" or "--usage-save-interval" or "--heartbeat-interval"))
            {
                return Fail(arg.StartsWith('-') ? $"unknown option '{name}'" : $"unexpected argument '{arg}'");
            }

            if (!seen.Add(name))
            {
                return Fail($"option {name} is given more than once");
            }

            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    return Fail($"option {name} needs a value");
                }

                value = args[++i];
            }

            if (value.Length == 0)
            {
                return Fail($"option {name} needs a non-empty value");
            }

            switch (name)
            {
                case "--listen":
                    if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                    {
                        return Fail($"--listen '{value}' is not an absolute http or https URL (for example {BrokerOptions.DefaultListen})");
                    }

                    options = options with { Listen = value };
                    break;
                case "--metrics-listen":
                    if (value == "off")
                    {
                        options = options with { MetricsListen = null };
                        break;
                    }

                    if (MetricsEndpoint.FindProblem(value, listen: "") is { } problem)
                    {
                        return Fail($"--metrics-listen: {problem}");
                    }

                    options = options with { MetricsListen = value };
                    break;
                case "--catalog":
                    options = options with { CatalogPath = value };
                    break;
                case "--prices":
                    options = options with { PricesPath = value };
                    break;
                case "--data-dir":
                    options = options with { DataDir = value };
                    break;
                case "--usage-save-interval":
                    if (Seconds(value) is not { } saveInterval)
                    {
                        return Fail($"--usage-save-interval '{value}' is not a positive number of seconds");
                    }

                    options = options with { UsageSaveInterval = saveInterval };
                    break;
                case "--heartbeat-interval":
                    if (Seconds(value) is not { } heartbeat)
                    {
                        return Fail($"--heartbeat-interval '{value}' is not a positive number of seconds");
                    }

                    options = options with { HeartbeatInterval = heartbeat };
                    break;
            }
        }

        return new BrokerCommandLine(options, ShowHelp: false, null);
    }

    // A positive number of seconds, small enough that multiples of it still fit a TimeSpan; else null.
    private static TimeSpan? Seconds(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
        && seconds > 0 && seconds <= TimeSpan.MaxValue.TotalSeconds / 1000
            ? TimeSpan.FromSeconds(seconds)
            : null;

    private static BrokerCommandLine Fail(string error) => new(null, ShowHelp: false, error);
}
