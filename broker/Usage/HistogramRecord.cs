using AccelBroker.Protocol.V1;

namespace AccelBroker.Broker.Usage;

/// <summary>A wire <see cref="Histogram"/> as saved: sparse, only its non-empty buckets.</summary>
internal sealed record HistogramRecord(
    long Count,
    double SumSeconds,
    double MinSeconds,
    double MaxSeconds,
    IReadOnlyList<int> BucketIndexes,
    IReadOnlyList<long> BucketCounts)
{
    public static HistogramRecord? From(Histogram? histogram) => histogram is null
        ? null
        : new(histogram.Count, histogram.SumSeconds, histogram.MinSeconds, histogram.MaxSeconds, [.. histogram.BucketIndexes], [.. histogram.BucketCounts]);

    public Histogram ToProto()
    {
        var histogram = new Histogram { Count = Count, SumSeconds = SumSeconds, MinSeconds = MinSeconds, MaxSeconds = MaxSeconds };
        histogram.BucketIndexes.AddRange(BucketIndexes);
        histogram.BucketCounts.AddRange(BucketCounts);
        return histogram;
    }
}
