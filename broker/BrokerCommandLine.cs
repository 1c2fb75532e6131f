using AccelBroker.Hosting.CommandLine;
using Microsoft.Extensions.Configuration;

namespace AccelBroker.Broker;

/// <summary>
/// The broker's command line over its configuration: <c>--listen URL [--metrics-listen URL|off] [--catalog FILE] [--prices FILE]
/// [--data-dir DIR] [--usage-save-interval SECONDS] [--heartbeat-interval SECONDS] [--otlp-endpoint URL]</c>.
/// </summary>
internal sealed record BrokerCommandLine(BrokerOptions? Options, bool ShowHelp, string? Error)
{
    /// <summary>The executable serves metrics unless told not to (Prometheus exporters' customary port).</summary>
    public const string DefaultMetricsListen = BrokerSettings.DefaultMetricsListen;

    private static readonly HostCommandLine<BrokerOptions> s_commandLine = new(
        "AccelBroker.Broker",
        "Runs the AccelBroker broker: it keeps the fleet of accelerator agents, the slice-type catalogue and the "
        + "attachments of slices to client hosts. It serves gRPC over HTTP/2 (h2c for http URLs). Every setting can also "
        + "come from appsettings.json next to the executable (section Broker) or from ACCELBROKER_BROKER__<SETTING> "
        + "environment variables; the command line wins over both, the environment over the file.",
        BrokerSettings.All);

    /// <summary>The command line alone, over no other configuration.</summary>
    public static BrokerCommandLine Parse(IReadOnlyList<string> args) => Parse(args, new ConfigurationBuilder().Build());

    /// <summary>The command line over <paramref name="configuration"/> (the file and environment variables).</summary>
    public static BrokerCommandLine Parse(IReadOnlyList<string> args, IConfiguration configuration)
    {
        HostCommandLineResult parsed = s_commandLine.Parse(args);
        if (parsed.ShowHelp)
        {
            return new BrokerCommandLine(null, ShowHelp: true, null);
        }

        if (parsed.Values is not { } values)
        {
            return new BrokerCommandLine(null, ShowHelp: false, parsed.Error);
        }

        try
        {
            return new BrokerCommandLine(BrokerSettings.Bind(HostConfiguration.WithCommandLine(configuration, BrokerSettings.All.Section, values)), ShowHelp: false, null);
        }
        catch (FormatException ex)
        {
            return new BrokerCommandLine(null, ShowHelp: false, ex.Message);
        }
    }

    public static void WriteHelp(TextWriter output) => s_commandLine.WriteHelp(output);
}
