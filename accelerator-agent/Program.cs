using AccelBroker.Hosting.CommandLine;
using Microsoft.Extensions.Configuration;

namespace AccelBroker.Agent;

/// <summary>Entry point of the accelerator agent.</summary>
public static class Program
{
    /// <summary>Runs the agent until it is stopped (Ctrl+C or SIGTERM).</summary>
    /// <returns>0 after a clean stop or help, 1 when the agent cannot start, 2 for bad arguments or settings.</returns>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == Isolation.Worker.WorkerMain.Verb)
        {
            return Isolation.Worker.WorkerMain.Run(args[1..]);
        }

        IConfiguration configuration;
        try
        {
            configuration = HostConfiguration.Load();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException)
        {
            return BadSettings(Console.Error, ex.Message);
        }

        return await Run(args, configuration, Console.Out, Console.Error);
    }

    /// <summary>
    /// Runs the agent with <paramref name="args"/> over <paramref name="configuration"/> (the file and environment
    /// variables; the command line wins) until <paramref name="cancellationToken"/> or a stop signal.
    /// </summary>
    internal static async Task<int> Run(IReadOnlyList<string> args, IConfiguration configuration, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        AgentOptions options;
        try
        {
            AgentOptions? parsed = AgentCommandLine.Parse(args, configuration);
            if (parsed is null)
            {
                AgentCommandLine.WriteHelp(output);
                return 0;
            }

            options = parsed;
        }
        catch (FormatException ex)
        {
            return BadSettings(error, ex.Message);
        }

        try
        {
            await using WebApplication app = AgentHost.Build(options);
            await app.RunAsync(cancellationToken);
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }

    /// <summary>The command line and empty configuration: what <see cref="Run"/> would start, or <see langword="null"/> for help.</summary>
    internal static AgentOptions? Parse(IReadOnlyList<string> args) => AgentCommandLine.Parse(args, new ConfigurationBuilder().Build());

    private static int BadSettings(TextWriter error, string message)
    {
        error.WriteLine($"error: {message}");
        error.WriteLine("Run with --help for usage.");
        return 2;
    }
}
