using System.Globalization;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>Human formats shared by the verbs.</summary>
internal static class Formatting
{
    public const long MiB = 1024 * 1024;

    public static string Mib(long bytes) => (bytes / MiB).ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Bytes in binary units with one decimal, e.g. "6.3 KiB", "2.0 GiB"; plain bytes below 1 KiB.</summary>
    public static string Bytes(long bytes)
    {
        if (Math.Abs(bytes) < 1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        }

        string[] units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes / 1024.0;
        int unit = 0;
        // Rounds first, so 1023.96 KiB reads "1.0 MiB" rather than "1024.0 KiB".
        while (Math.Abs(Math.Round(value, 1)) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    public static string Share(double share) => share.ToString("0.###", CultureInfo.InvariantCulture);

    public static string Price(double perHour) => "$" + perHour.ToString("0.000", CultureInfo.InvariantCulture);

    public static string Device(DeviceInfo? device) => device is null ? "" : device.Kind == "cuda" ? $"cuda:{device.Index}" : device.Kind;

    public static string Ms(double seconds) => (seconds * 1000).ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>UTC to the second, as ISO 8601: "2026-03-06T03:09:38Z".</summary>
    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    public static string Precision(Precision precision) => precision switch
    {
        Protocol.V1.Precision.Fp16 => "fp16",
        Protocol.V1.Precision.Bf16 => "bf16",
        _ => "fp32",
    };

    /// <summary>EI printed its time as C's ctime does: "Fri Mar 6 03:09:38 2019".</summary>
    public static string CTime(DateTimeOffset time) => time.UtcDateTime.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture);
}
