using Microsoft.Extensions.Configuration;

namespace AccelBroker.Hosting.CommandLine;

/// <summary>
/// Where a host's settings come from, lowest precedence first: <c>appsettings.json</c> next to the executable,
/// environment variables <c>ACCELBROKER_&lt;HOST&gt;__&lt;SETTING&gt;</c>, the command line.
/// </summary>
public static class HostConfiguration
{
    /// <summary>The prefix every host's environment variables share; the rest is the section and the key.</summary>
    public const string EnvironmentPrefix = "ACCELBROKER_";

    /// <summary>The settings file read from the executable's folder.</summary>
    public const string FileName = "appsettings.json";

    /// <summary>
    /// The file (optional) and the environment variables. Throws <see cref="FormatException"/> or
    /// <see cref="InvalidDataException"/> when the file is not valid JSON.
    /// </summary>
    /// <param name="directory">Folder holding the settings file; the executable's by default.</param>
    public static IConfiguration Load(string? directory = null) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(directory ?? AppContext.BaseDirectory, FileName), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix)
            .Build();

    /// <summary>Layers values from the command line (keys of <paramref name="section"/>) over <paramref name="configuration"/>.</summary>
    public static IConfiguration WithCommandLine(IConfiguration configuration, string section, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(values);
        return new ConfigurationBuilder()
            .AddConfiguration(configuration, shouldDisposeConfiguration: false)
            .AddInMemoryCollection(values.Select(v => KeyValuePair.Create($"{section}:{v.Key}", (string?)v.Value)))
            .Build();
    }
}
