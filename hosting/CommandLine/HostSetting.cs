namespace AccelBroker.Hosting.CommandLine;

/// <summary>
/// One setting of a host: a configuration key (<c>appsettings.json</c> and <c>ACCELBROKER_…</c> environment
/// variables) and, unless it is configuration-only, the command-line flag that sets the same value in the same units.
/// </summary>
/// <typeparam name="TOptions">The host's options record.</typeparam>
public sealed record HostSetting<TOptions>
{
    /// <summary>Creates a setting.</summary>
    /// <param name="key">Configuration key under the host's section, for example <c>MemoryMib</c>.</param>
    /// <param name="flag">Command-line flag, for example <c>--memory-mib</c>; <see langword="null"/> for a configuration-only setting.</param>
    /// <param name="valueName">Name of the value in help, for example <c>N</c>; <see langword="null"/> for a switch (a flag without a value).</param>
    /// <param name="description">Help text.</param>
    /// <param name="sample">A valid value that differs from the default (what tests set it to).</param>
    /// <param name="apply">Returns the options with the value applied; throws <see cref="FormatException"/> with the message users see.</param>
    public HostSetting(string key, string? flag, string? valueName, string description, string sample, Func<TOptions, string, TOptions> apply)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(apply);
        Key = key;
        Flag = flag;
        ValueName = valueName;
        Description = description;
        Sample = sample;
        Apply = apply;
    }

    /// <summary>Configuration key under the host's section.</summary>
    public string Key { get; }

    /// <summary>Command-line flag; <see langword="null"/> when the setting is configuration-only.</summary>
    public string? Flag { get; }

    /// <summary>Name of the value in help; <see langword="null"/> for a switch, which the command line sets to <c>true</c>.</summary>
    public string? ValueName { get; }

    /// <summary>Help text.</summary>
    public string Description { get; }

    /// <summary>A valid value that differs from the default.</summary>
    public string Sample { get; }

    /// <summary>Applies a value to the options; throws <see cref="FormatException"/> for a bad one.</summary>
    public Func<TOptions, string, TOptions> Apply { get; }

    /// <summary>How messages name the setting: its flag, or its key when it has none.</summary>
    public string Name => Flag ?? Key;
}
