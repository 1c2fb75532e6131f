using System.Globalization;

namespace AccelBroker.Benchmarks;

/// <summary>Culture-invariant number formatting for the report.</summary>
internal static class Fmt
{
    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static string Ms(double milliseconds) => Invariant($"{milliseconds:0.000} ms");
}
