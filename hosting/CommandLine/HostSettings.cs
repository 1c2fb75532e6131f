using System.Collections;
using Microsoft.Extensions.Configuration;

namespace AccelBroker.Hosting.CommandLine;

/// <summary>
/// A host's settings and its configuration section (<c>Agent</c>, <c>Broker</c>). Binding reads the merged
/// configuration once, so a bad value fails with the same message whichever source it came from.
/// </summary>
/// <typeparam name="TOptions">The host's options record.</typeparam>
public sealed class HostSettings<TOptions> : IReadOnlyList<HostSetting<TOptions>>
{
    private readonly IReadOnlyList<HostSetting<TOptions>> _settings;

    /// <summary>Creates the table; keys and flags must be unique.</summary>
    public HostSettings(string section, IReadOnlyList<HostSetting<TOptions>> settings)
    {
        ArgumentException.ThrowIfNullOrEmpty(section);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.GroupBy(s => s.Key, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } key)
        {
            throw new ArgumentException($"setting key {key.Key} is used twice", nameof(settings));
        }

        Section = section;
        _settings = settings;
    }

    /// <summary>The configuration section, for example <c>Agent</c>: <c>{"Agent": {"Listen": …}}</c> in appsettings.json.</summary>
    public string Section { get; }

    /// <summary>The prefix of this host's environment variables, for example <c>ACCELBROKER_AGENT__</c>.</summary>
    public string EnvironmentPrefix => HostConfiguration.EnvironmentPrefix + Section.ToUpperInvariant() + "__";

    /// <inheritdoc />
    public int Count => _settings.Count;

    /// <inheritdoc />
    public HostSetting<TOptions> this[int index] => _settings[index];

    /// <summary>
    /// Applies every setting present in <paramref name="configuration"/>'s section to <paramref name="defaults"/>, in
    /// table order. Throws <see cref="FormatException"/> for a bad value or a key no setting has.
    /// </summary>
    public TOptions Bind(IConfiguration configuration, TOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfigurationSection section = configuration.GetSection(Section);
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!_settings.Any(s => string.Equals(s.Key, child.Key, StringComparison.OrdinalIgnoreCase)))
            {
                throw new FormatException($"unknown setting '{child.Key}' ({EnvironmentPrefix}{child.Key.ToUpperInvariant()} or {Section}:{child.Key} in {HostConfiguration.FileName})");
            }
        }

        TOptions options = defaults;
        foreach (HostSetting<TOptions> setting in _settings)
        {
            if (section[setting.Key] is { } value)
            {
                options = setting.Apply(options, value);
            }
        }

        return options;
    }

    /// <summary>Whether <paramref name="configuration"/> sets <paramref name="key"/> in this host's section.</summary>
    public bool IsSet(IConfiguration configuration, string key) => configuration.GetSection(Section)[key] is not null;

    /// <inheritdoc />
    public IEnumerator<HostSetting<TOptions>> GetEnumerator() => _settings.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
