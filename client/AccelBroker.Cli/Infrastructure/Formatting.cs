using System.Globalization;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>Human formats shared by the verbs.</summary>
internal static class Formatting
{
    public const long MiB = 1024 * 1024;

    public static string Mib(long bytes) => (bytes / MiB).ToString("N0", CultureInfo.InvariantCulture);

    public static string Share(double share) => share.ToString("0.###", CultureInfo.InvariantCulture);

    public static string Price(double perHour) => "$" + perHour.ToString("0.000", CultureInfo.InvariantCulture);

    public static string Device(DeviceInfo? device) => device is null ? "" : device.Kind == "cuda" ? $"cuda:{device.Index}" : device.Kind;

    public static string Ms(double seconds) => (seconds * 1000).ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>EI printed its time as C's ctime does: "Fri Mar 6 03:09:38 2019".</summary>
    public static string CTime(DateTimeOffset time) => time.UtcDateTime.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture);
}
