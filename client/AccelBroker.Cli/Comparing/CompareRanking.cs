using AccelBroker.Cli.Load;

namespace AccelBroker.Cli.Comparing;

/// <summary>
/// How <c>accel compare</c> orders, ties and tells rows apart. The ranking cost is seed 002's cost per 100k
/// (mean latency) when runs are one request of batch 1 at a time, and seed 000's cost per million items at the
/// measured throughput otherwise (latency alone ignores what batching and concurrent callers deliver). Costs
/// equal as displayed (3 significant digits) are ordered by lower P90, as seed 002 chose c5.large over m5.large.
/// </summary>
internal static class CompareRanking
{
    public const string ByCostPer100k = "cost_per_100k";
    public const string ByCostPerMillionItems = "cost_per_million_items";

    /// <summary>Significant digits of a cost as the table shows it: costs equal to these are a tie.</summary>
    public const int CostDigits = 3;

    public const string OrderMethod =
        "cheapest first by the ranking cost; costs equal to the 3 significant digits displayed by lower P90; rows not measured last, does-not-fit first";

    public const string DistinguishMethod =
        "two rows measured separately are not distinguishable when the 95 % intervals of their ranking cost overlap " +
        "(price x the interval of mean latency for cost per 100k, price / the interval of throughput for cost per million items); " +
        "rows priced from one measurement (one slice type under several host types) share its noise and are never marked";

    public static string RankedBy(long batch, int concurrency) => batch == 1 && concurrency == 1 ? ByCostPer100k : ByCostPerMillionItems;

    public static double? CostOf(CompareRow row, string rankedBy) => rankedBy == ByCostPer100k ? row.CostPer100k : row.CostPerMillionItems;

    public static ConfidenceInterval? CostIntervalOf(CompareRow row, string rankedBy) => rankedBy == ByCostPer100k ? row.CostPer100kCi95 : row.CostPerMillionItemsCi95;

    /// <summary>Measured rows by (cost rounded to the displayed precision, P90); then does-not-fit rows, then the rest, each in the given order.</summary>
    public static IReadOnlyList<CompareRow> Order(IEnumerable<CompareRow> rows, string rankedBy) =>
        [.. rows
            .Select((row, index) => (row, index))
            .OrderBy(r => r.row.Measured ? 0 : r.row.DoesNotFit is not null ? 1 : 2)
            .ThenBy(r => CostOf(r.row, rankedBy) is { } cost ? Displayed(cost) : 0)
            .ThenBy(r => r.row.LatencyMs?.P90Ms ?? 0)
            .ThenBy(r => r.index)
            .Select(r => r.row)];

    /// <summary>A cost rounded to <see cref="CostDigits"/> significant digits, as shown: 0.05851 and 0.05849 both 0.0585.</summary>
    public static double Displayed(double cost)
    {
        if (cost == 0 || !double.IsFinite(cost))
        {
            return cost;
        }

        int decimals = CostDigits - 1 - (int)Math.Floor(Math.Log10(Math.Abs(cost)));
        return Math.Round(cost, Math.Clamp(decimals, 0, 15), MidpointRounding.AwayFromZero);
    }

    /// <summary>The cheapest measured row meeting the SLO, in ranking order.</summary>
    public static CompareRow? Cheapest(IReadOnlyList<CompareRow> ordered) => ordered.FirstOrDefault(r => r.Measured && r.MeetsSlo);

    /// <summary>Marks every measured row with the others whose ranking-cost intervals overlap its own.</summary>
    public static IReadOnlyList<CompareRow> MarkIndistinguishable(IReadOnlyList<CompareRow> rows, string rankedBy) =>
        [.. rows.Select(row => !row.Measured || CostIntervalOf(row, rankedBy) is not { } mine
            ? row
            : row with
            {
                NotDistinguishableFrom = [.. rows
                    .Where(other => other.Measured && other.MeasurementId != row.MeasurementId && CostIntervalOf(other, rankedBy) is { } theirs && mine.Overlaps(theirs))
                    .Select(other => other.Instance)],
            })];

    /// <summary>Adds each row's ratio to <paramref name="baseline"/>; null ratios where either side was not measured.</summary>
    public static IReadOnlyList<CompareRow> WithBaseline(IReadOnlyList<CompareRow> rows, string baseline, string rankedBy)
    {
        CompareRow basis = rows.Single(r => r.Instance == baseline);
        return [.. rows.Select(row =>
        {
            double? throughput = row.Throughput is { } t && basis.Throughput is { ItemsPerSecond: > 0 } b ? t.ItemsPerSecond / b.ItemsPerSecond : null;
            double? benefit = CostOf(row, rankedBy) is { } cost && cost > 0 && CostOf(basis, rankedBy) is { } basisCost ? basisCost / cost : null;
            return row with { VsBaseline = new BaselineRatio(baseline, throughput, benefit) };
        })];
    }
}
