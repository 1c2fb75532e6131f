using AccelBroker.Hosting.Metrics;

namespace AccelBroker.Hosting.CommandLine;

/// <summary>Value checks both hosts share, with the messages both have always printed.</summary>
public static class HostSettingValues
{
    /// <summary>The word that turns the metrics endpoint off.</summary>
    public const string Off = "off";

    /// <summary>
    /// A metrics address (trailing slash removed when <paramref name="trimSlash"/>), or <see langword="null"/>
    /// for <c>off</c>; throws <see cref="FormatException"/> naming <paramref name="name"/> otherwise.
    /// </summary>
    public static string? MetricsListen(string name, string value, bool trimSlash) =>
        value == Off ? null
        : MetricsEndpoint.FindProblem(value, listen: "") is { } problem ? throw new FormatException($"{name}: {problem}")
        : trimSlash ? value.TrimEnd('/') : value;

    /// <summary>Whether <paramref name="value"/> is an absolute http or https URL.</summary>
    public static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>A switch's value from configuration: true or false (any case); throws <see cref="FormatException"/> otherwise.</summary>
    public static bool Switch(string name, string value) =>
        bool.TryParse(value, out bool on) ? on : throw new FormatException($"{name} is a switch: true or false, got '{value}'");
}
