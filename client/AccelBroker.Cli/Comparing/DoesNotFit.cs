using System.Globalization;
using System.Text.RegularExpressions;
using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli.Comparing;

/// <summary>
/// A slice type the model does not fit: what the load needed, as the agent's refusal states it, and what the slice
/// holds. Becomes its own row instead of ending the comparison.
/// </summary>
internal sealed partial record DoesNotFit(long NeedsBytes, string Measured, long SliceHoldsBytes)
{
    /// <summary>"does not fit: needs 32.0 MiB (measured), slice holds 16.0 MiB".</summary>
    public string Text => $"does not fit: needs {Formatting.Bytes(NeedsBytes)} ({Measured}), slice holds {Formatting.Bytes(SliceHoldsBytes)}";

    /// <summary>
    /// Reads the agent's load refusal ("model 'm' needs N bytes (how) but slice 's' has A of its B bytes available…");
    /// null for any other refusal. <paramref name="sliceHoldsBytes"/> is the slice type's memory; without it the
    /// refusal's own "of its B bytes" is used.
    /// </summary>
    public static DoesNotFit? FromRefusal(string detail, long? sliceHoldsBytes)
    {
        Match needs = NeedsPattern().Match(detail);
        if (!needs.Success)
        {
            return null;
        }

        long needed = long.Parse(needs.Groups["bytes"].Value, CultureInfo.InvariantCulture);
        Match holds = HoldsPattern().Match(detail);
        long? budget = sliceHoldsBytes ?? (holds.Success ? long.Parse(holds.Groups["bytes"].Value, CultureInfo.InvariantCulture) : null);
        return budget is { } b ? new DoesNotFit(needed, needs.Groups["how"].Value, b) : null;
    }

    [GeneratedRegex(@"needs (?<bytes>\d+) bytes \((?<how>[^)]*)\) but slice", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex NeedsPattern();

    [GeneratedRegex(@"of its (?<bytes>\d+) bytes", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex HoldsPattern();
}
