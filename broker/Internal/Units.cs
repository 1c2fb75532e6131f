using System.Globalization;

namespace AccelBroker.Broker.Internal;

/// <summary>How memory and compute read in messages and logs.</summary>
internal static class Units
{
    public const long BytesPerMib = 1024 * 1024;

    /// <summary>"2048 MiB", or "1536.5 MiB" when not a whole number of MiB.</summary>
    public static string Mib(long bytes) =>
        bytes % BytesPerMib == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes / BytesPerMib} MiB")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)BytesPerMib:0.##} MiB");

    /// <summary>A compute fraction such as "0.125"; values within rounding of zero read "0".</summary>
    public static string Share(double share)
    {
        double rounded = Math.Round(share, 6);
        return (rounded == 0 ? 0 : rounded).ToString("0.###", CultureInfo.InvariantCulture);
    }

    /// <summary>"14.2 s".</summary>
    public static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#} s");
}
