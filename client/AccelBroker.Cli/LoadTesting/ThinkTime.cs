using System.Globalization;
using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli.LoadTesting;

/// <summary>
/// A user's pause between its requests, <c>--think-time MS</c> or <c>MIN-MAX</c> (uniform, drawn from the user's seeded
/// random), as Locust's <c>constant</c> and <c>between</c> wait times.
/// </summary>
internal sealed record ThinkTime(double MinMs, double MaxMs)
{
    private const double MaxMsAllowed = 3_600_000;

    public static ThinkTime? Parse(string? text)
    {
        if (text is null)
        {
            return null;
        }

        string[] parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length is 1 or 2 && parts.All(p => double.TryParse(p, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _)))
        {
            double min = double.Parse(parts[0], CultureInfo.InvariantCulture);
            double max = double.Parse(parts[^1], CultureInfo.InvariantCulture);
            if (min <= max && max <= MaxMsAllowed)
            {
                return new ThinkTime(min, max);
            }
        }

        throw new CliUsageException($"--think-time must be milliseconds (e.g. 100) or a range MIN-MAX (e.g. 50-200), at most {MaxMsAllowed.ToString(CultureInfo.InvariantCulture)}, got '{text}'");
    }

    public TimeSpan Next(Random random) => TimeSpan.FromMilliseconds(MinMs + ((MaxMs - MinMs) * random.NextDouble()));
}
