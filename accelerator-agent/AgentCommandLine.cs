using AccelBroker.Hosting.CommandLine;
using Microsoft.Extensions.Configuration;

namespace AccelBroker.Agent;

/// <summary>The agent's command line over its configuration: <c>AccelBroker.Agent [--broker URL] [--listen URL] …</c>.</summary>
internal static class AgentCommandLine
{
    private static readonly HostCommandLine<AgentOptions> s_commandLine = new(
        "AccelBroker.Agent",
        "Runs an AccelBroker accelerator agent: it executes TorchScript models with TorchSharp for the slices the broker "
        + "places on it, and serves clients directly over gRPC (HTTP/2). Every setting can also come from appsettings.json "
        + "next to the executable (section Agent) or from ACCELBROKER_AGENT__<SETTING> environment variables; the "
        + "command line wins over both, the environment over the file.",
        AgentSettings.All);

    /// <summary>
    /// The options <paramref name="args"/> and <paramref name="configuration"/> give, or <see langword="null"/> when
    /// help is asked for; throws <see cref="FormatException"/> with what is wrong.
    /// </summary>
    public static AgentOptions? Parse(IReadOnlyList<string> args, IConfiguration configuration)
    {
        HostCommandLineResult parsed = s_commandLine.Parse(args);
        if (parsed.ShowHelp)
        {
            return null;
        }

        if (parsed.Values is not { } values)
        {
            throw new FormatException(parsed.Error);
        }

        return AgentSettings.Bind(HostConfiguration.WithCommandLine(configuration, AgentSettings.All.Section, values));
    }

    public static void WriteHelp(TextWriter output) => s_commandLine.WriteHelp(output);
}
