using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using Xunit;

namespace AccelBroker.Tests.Wire;

/// <summary>
/// Percentiles are nearest rank (the smallest sample with at least p % of samples at or below it), read from
/// buckets: never below the exact sample and at most 2 % above it, clamped to the exact min and max.
/// </summary>
public sealed class LatencyHistogramTests
{
    private static readonly double[] Percents = [1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100];

    [Fact]
    public void PercentilesOfOneToHundredMillisecondsAreTheNearestRankSampleWithinTwoPercent()
    {
        LatencyHistogram histogram = Of(Enumerable.Range(1, 100).Select(ms => ms / 1000.0));
        LatencyStats stats = histogram.ToStats();

        // Nearest rank of 1..100 ms: P50 = 50 ms, P90 = 90 ms, P95 = 95 ms, P99 = 99 ms.
        AssertWithinBucket(0.050, stats.P50Seconds);
        AssertWithinBucket(0.090, stats.P90Seconds);
        AssertWithinBucket(0.095, stats.P95Seconds);
        AssertWithinBucket(0.099, stats.P99Seconds);
        Assert.Equal(100, stats.Count);
        Assert.Equal(0.0505, stats.MeanSeconds, 12);
        Assert.Equal(0.001, stats.MinSeconds);
        Assert.Equal(0.100, stats.MaxSeconds);
        // Clamped to the exact extremes.
        Assert.Equal(0.100, histogram.Percentile(100));
        Assert.True(histogram.Percentile(1) >= 0.001);
    }

    [Fact]
    public void ErrorStaysWithinTwoPercentFromMicrosecondsToMinutes()
    {
        var random = new Random(1234);
        double[] samples = [.. Enumerable.Range(0, 5000).Select(_ => Math.Exp(random.NextDouble() * Math.Log(600 / 2e-6)) * 2e-6)];
        LatencyHistogram histogram = Of(samples);
        double[] sorted = [.. samples.Order()];

        foreach (double percent in Percents)
        {
            AssertWithinBucket(NearestRank.Percentile(sorted, percent), histogram.Percentile(percent));
        }
    }

    [Fact]
    public void EveryValueFallsInTheBucketWhoseBoundsHoldIt()
    {
        for (int i = 1; i < LatencyHistogram.TopBucket; i++)
        {
            double lower = LatencyHistogram.UpperBound(i - 1);
            double upper = LatencyHistogram.UpperBound(i);
            Assert.Equal(i, LatencyHistogram.BucketOf(lower));
            Assert.Equal(i, LatencyHistogram.BucketOf(Math.BitDecrement(upper)));
            Assert.Equal(i + 1, LatencyHistogram.BucketOf(upper));
        }

        Assert.Equal(0, LatencyHistogram.BucketOf(0));
        Assert.Equal(0, LatencyHistogram.BucketOf(0.5e-6));
        Assert.Equal(LatencyHistogram.TopBucket, LatencyHistogram.BucketOf(3 * 3600));
        Assert.InRange(LatencyHistogram.UpperBound(LatencyHistogram.TopBucket - 1), 3600, 3720);
        Assert.Equal(double.PositiveInfinity, LatencyHistogram.UpperBound(LatencyHistogram.TopBucket));
    }

    [Fact]
    public void AValueOverAnHourReadsAsTheExactMax()
    {
        LatencyHistogram histogram = Of([7200.5]);

        Assert.Equal(7200.5, histogram.Percentile(50));
    }

    [Fact]
    public void MergeEqualsRecordingEverythingInOne()
    {
        double[] a = [.. Enumerable.Range(1, 60).Select(ms => ms / 1000.0)];
        double[] b = [.. Enumerable.Range(200, 40).Select(ms => ms / 1000.0)];
        LatencyHistogram merged = Of(a);
        merged.Merge(Of(b));
        LatencyHistogram together = Of([.. a, .. b]);

        Assert.Equal(together.ToProto(), merged.ToProto());
        Assert.Equal(together.ToStats(), merged.ToStats());
        Assert.Equal(0.001, merged.Min);
        Assert.Equal(0.239, merged.Max);
    }

    [Fact]
    public void MergingAnEmptyHistogramChangesNothingAndMergingIntoAnEmptyOneCopies()
    {
        LatencyHistogram some = Of([0.002, 0.004]);
        Histogram before = some.ToProto();
        some.Merge(new LatencyHistogram());
        var empty = new LatencyHistogram();
        empty.Merge(some);

        Assert.Equal(before, some.ToProto());
        Assert.Equal(before, empty.ToProto());
    }

    [Fact]
    public void ConcurrentRecordsAreAllCounted()
    {
        var histogram = new LatencyHistogram();
        Parallel.For(0, 8, _ =>
        {
            for (int i = 1; i <= 1000; i++)
            {
                histogram.Record(i / 1e6);
            }
        });

        Assert.Equal(8000, histogram.Count);
        Assert.Equal(8 * 500500 / 1e6, histogram.Sum, 9);
    }

    [Fact]
    public void ProtoRoundTripKeepsEverything()
    {
        LatencyHistogram histogram = Of([0, 1e-7, 0.0123, 0.0123, 4.5, 5000]);
        Histogram proto = histogram.ToProto();

        LatencyHistogram back = LatencyHistogram.FromProto(proto);

        Assert.Equal(proto, back.ToProto());
        Assert.Equal(histogram.ToStats(), back.ToStats());
        Assert.Equal(6, proto.Count);
        Assert.Equal(proto.BucketIndexes.Count, proto.BucketCounts.Count);
        Assert.Equal(4, proto.BucketIndexes.Count);
        Assert.Equal(new LatencyStats(), LatencyHistogram.FromProto(null).ToStats());
    }

    [Fact]
    public void EmptyStatsAreZero()
    {
        Assert.Equal(new LatencyStats(), new LatencyHistogram().ToStats());
        Assert.Equal(0, new LatencyHistogram().Percentile(50));
    }

    [Theory]
    [InlineData(-0.001)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void ANegativeOrNonFiniteDurationIsRefused(double seconds)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LatencyHistogram().Record(seconds));
    }

    public static TheoryData<string, string> MalformedProtos => new()
    {
        { "lengths", "bucket_indexes has 2 entries but bucket_counts has 1" },
        { "negative-index", "bucket index -1 is outside 0..1112" },
        { "index-too-large", "bucket index 1113 is outside 0..1112" },
        { "not-increasing", "bucket indexes must increase, but 5 follows 5" },
        { "zero-count", "bucket 5 has count 0; only non-empty buckets are sent" },
        { "sum-mismatch", "bucket counts add up to 3 but count is 4" },
        { "negative-count", "count must not be negative (got -1)" },
        { "nan-sum", "sum_seconds, min_seconds and max_seconds must be finite and at least 0" },
        { "min-over-max", "min_seconds 2 exceeds max_seconds 1" },
        { "empty-with-extremes", "an empty histogram must have sum_seconds, min_seconds and max_seconds 0" },
    };

    [Theory]
    [MemberData(nameof(MalformedProtos))]
    public void AMalformedProtoIsRefusedWithItsReason(string kind, string reason)
    {
        Histogram proto = MalformedHistograms.Of(kind);

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => LatencyHistogram.FromProto(proto));

        Assert.Equal(reason, error.Message);
        Assert.Equal(reason, LatencyHistogram.FindProblem(proto));
    }

    private static LatencyHistogram Of(IEnumerable<double> seconds)
    {
        var histogram = new LatencyHistogram();
        foreach (double s in seconds)
        {
            histogram.Record(s);
        }

        return histogram;
    }

    private static void AssertWithinBucket(double exact, double reported) =>
        Assert.InRange(reported, exact, exact * LatencyHistogram.Growth);
}
