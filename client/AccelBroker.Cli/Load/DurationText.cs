using System.Globalization;
using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli.Load;

/// <summary>Durations on the command line: seconds as a number (<c>30</c>, <c>0.5</c>) or with a unit (<c>500ms</c>, <c>30s</c>, <c>2m</c>).</summary>
internal static class DurationText
{
    public static TimeSpan Parse(string option, string text, TimeSpan min, TimeSpan max)
    {
        string t = text.Trim().ToLowerInvariant();
        (string number, double scale) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 0.001)
            : t.EndsWith('s') ? (t[..^1], 1)
            : t.EndsWith('m') ? (t[..^1], 60)
            : t.EndsWith('h') ? (t[..^1], 3600)
            : (t, 1);
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            throw new CliException($"{option} must be a duration such as 30, 30s, 500ms or 2m, got '{text}'");
        }

        TimeSpan duration = TimeSpan.FromSeconds(value * scale);
        return duration < min || duration > max
            ? throw new CliException(string.Create(CultureInfo.InvariantCulture, $"{option} must be between {min.TotalSeconds:0.###} s and {max.TotalSeconds:0.###} s, got '{text}'"))
            : duration;
    }
}
