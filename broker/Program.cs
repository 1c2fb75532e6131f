using AccelBroker.Hosting.CommandLine;
using Microsoft.Extensions.Configuration;

namespace AccelBroker.Broker;

/// <summary>The broker executable.</summary>
public static class Program
{
    /// <summary>Runs the broker until Ctrl+C or SIGTERM.</summary>
    /// <returns>0 after a clean stop, 1 when the broker cannot start, 2 for bad arguments or settings.</returns>
    public static async Task<int> Main(string[] args)
    {
        IConfiguration configuration;
        try
        {
            configuration = HostConfiguration.Load();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException)
        {
            return await BadSettingsAsync(Console.Error, ex.Message);
        }

        return await Run(args, configuration, Console.Out, Console.Error);
    }

    /// <summary>
    /// Runs the broker with <paramref name="args"/> over <paramref name="configuration"/> (the file and environment
    /// variables; the command line wins) until <paramref name="cancellationToken"/> or a stop signal.
    /// </summary>
    internal static async Task<int> Run(IReadOnlyList<string> args, IConfiguration configuration, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        BrokerCommandLine commandLine = BrokerCommandLine.Parse(args, configuration);
        if (commandLine.ShowHelp)
        {
            BrokerCommandLine.WriteHelp(output);
            return 0;
        }

        if (commandLine.Options is not { } options)
        {
            return await BadSettingsAsync(error, commandLine.Error);
        }

        WebApplication app;
        try
        {
            app = BrokerHost.Build(options);
        }
        catch (BrokerConfigurationException ex)
        {
            await error.WriteLineAsync($"broker: {ex.Message}");
            return 1;
        }

        await using (app)
        {
            try
            {
                await app.RunAsync(cancellationToken);
            }
            catch (IOException ex)
            {
                // Kestrel reports an address in use or not available as an IOException.
                string addresses = options.MetricsListen is null ? options.Listen : $"{options.Listen} and {options.MetricsListen}";
                await error.WriteLineAsync($"broker: cannot listen on {addresses}: {ex.Message}");
                return 1;
            }
        }

        return 0;
    }

    private static async Task<int> BadSettingsAsync(TextWriter error, string? message)
    {
        await error.WriteLineAsync($"broker: {message}");
        await error.WriteLineAsync("Run with --help for usage.");
        return 2;
    }
}
