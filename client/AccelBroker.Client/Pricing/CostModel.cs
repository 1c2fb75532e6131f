namespace AccelBroker.Client.Pricing;

/// <summary>The cost formulas of the seed articles (shared/reference/prices-and-methods.md).</summary>
public static class CostModel
{
    /// <summary>
    /// Cost of 100,000 inferences served one at a time (seed 002): price per hour ÷ 3600 × mean latency in
    /// seconds × 100,000.
    /// </summary>
    /// <param name="pricePerHour">US dollars per hour of everything the inference occupies (host + accelerator).</param>
    /// <param name="meanLatencySeconds">Mean latency of one inference.</param>
    /// <returns>US dollars.</returns>
    public static double PerHundredThousand(double pricePerHour, double meanLatencySeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pricePerHour);
        ArgumentOutOfRangeException.ThrowIfNegative(meanLatencySeconds);
        return pricePerHour / 3600 * meanLatencySeconds * 100_000;
    }

    /// <summary>
    /// Cost of a million items at a sustained throughput (seed 000): price per hour ÷ (items per second × 3600)
    /// × 1,000,000.
    /// </summary>
    /// <param name="pricePerHour">US dollars per hour.</param>
    /// <param name="itemsPerSecond">Completed items per second (batch size × requests per second).</param>
    /// <returns>US dollars.</returns>
    public static double PerMillionItems(double pricePerHour, double itemsPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pricePerHour);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(itemsPerSecond);
        return pricePerHour / (itemsPerSecond * 3600) * 1_000_000;
    }
}
