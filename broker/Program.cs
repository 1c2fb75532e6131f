namespace AccelBroker.Broker;

/// <summary>The broker executable.</summary>
public static class Program
{
    /// <summary>Runs the broker until Ctrl+C or SIGTERM.</summary>
    /// <returns>0 after a clean stop, 1 when the broker cannot start, 2 for bad arguments.</returns>
    public static async Task<int> Main(string[] args)
    {
        BrokerCommandLine commandLine = BrokerCommandLine.Parse(args);
        if (commandLine.ShowHelp)
        {
            await Console.Out.WriteLineAsync(BrokerCommandLine.Usage);
            return 0;
        }

        if (commandLine.Options is not { } options)
        {
            await Console.Error.WriteLineAsync($"broker: {commandLine.Error}");
            await Console.Error.WriteLineAsync("Run with --help for usage.");
            return 2;
        }

        WebApplication app;
        try
        {
            app = BrokerHost.Build(options);
        }
        catch (BrokerConfigurationException ex)
        {
            await Console.Error.WriteLineAsync($"broker: {ex.Message}");
            return 1;
        }

        await using (app)
        {
            try
            {
                await app.RunAsync();
            }
            catch (IOException ex)
            {
                // Kestrel reports an address in use or not available as an IOException.
                string addresses = options.MetricsListen is null ? options.Listen : $"{options.Listen} and {options.MetricsListen}";
                await Console.Error.WriteLineAsync($"broker: cannot listen on {addresses}: {ex.Message}");
                return 1;
            }
        }

        return 0;
    }
}
