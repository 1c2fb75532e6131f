using System.Reflection;
using System.Text.Json;
using AccelBroker.Hosting.CommandLine;
using Microsoft.Extensions.Configuration;

namespace AccelBroker.Tests.Hosting;

/// <summary>
/// A host's settings from a real appsettings.json in a temporary folder and real environment variables (restored on
/// dispose), read the way the executables read them. Test collections run one at a time (xunit.runner.json), so no
/// other test sees the variables.
/// </summary>
public sealed class SettingSources : IDisposable
{
    private readonly Dictionary<string, string?> _previous = [];

    public SettingSources()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("accel-settings-").FullName;
    }

    public string Directory { get; }

    public SettingSources File(string section, IReadOnlyDictionary<string, object> values)
    {
        string json = JsonSerializer.Serialize(new Dictionary<string, IReadOnlyDictionary<string, object>> { [section] = values });
        System.IO.File.WriteAllText(Path.Combine(Directory, HostConfiguration.FileName), json);
        return this;
    }

    public SettingSources Environment(string name, string value)
    {
        _previous.TryAdd(name, System.Environment.GetEnvironmentVariable(name));
        System.Environment.SetEnvironmentVariable(name, value);
        return this;
    }

    public IConfiguration Load() => HostConfiguration.Load(Directory);

    public void Dispose()
    {
        foreach ((string name, string? value) in _previous)
        {
            System.Environment.SetEnvironmentVariable(name, value);
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Settable properties of <typeparamref name="TOptions"/> that no setting's sample changes from what no settings give.</summary>
    public static IReadOnlyList<string> Unreached<TOptions>(HostSettings<TOptions> settings, Func<IConfiguration, TOptions> bind)
    {
        TOptions defaults = bind(new ConfigurationBuilder().Build());
        var reached = new HashSet<string>();
        foreach (HostSetting<TOptions> setting in settings)
        {
            IConfiguration one = new ConfigurationBuilder()
                .AddInMemoryCollection([KeyValuePair.Create($"{settings.Section}:{setting.Key}", (string?)setting.Sample)])
                .Build();
            TOptions options = bind(one);
            foreach (PropertyInfo property in Properties<TOptions>())
            {
                if (!Equals(property.GetValue(options), property.GetValue(defaults)))
                {
                    reached.Add(property.Name);
                }
            }
        }

        return Properties<TOptions>().Select(p => p.Name).Where(name => !reached.Contains(name)).ToList();
    }

    public static IEnumerable<PropertyInfo> Properties<TOptions>() =>
        typeof(TOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);
}
