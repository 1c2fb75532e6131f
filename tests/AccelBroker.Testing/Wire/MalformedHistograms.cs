using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Tests.Wire;

/// <summary>Histograms broken in one named way each: the wire tests refuse them, and so must the broker's usage reports.</summary>
internal static class MalformedHistograms
{
    public static Histogram Of(string kind)
    {
        var proto = new Histogram { Count = 3, SumSeconds = 3, MinSeconds = 1, MaxSeconds = 1 };
        switch (kind)
        {
            case "lengths":
                proto.BucketIndexes.AddRange([5, 6]);
                proto.BucketCounts.Add(3);
                break;
            case "negative-index":
                proto.BucketIndexes.Add(-1);
                proto.BucketCounts.Add(3);
                break;
            case "index-too-large":
                proto.BucketIndexes.Add(LatencyHistogram.BucketCount);
                proto.BucketCounts.Add(3);
                break;
            case "not-increasing":
                proto.BucketIndexes.AddRange([5, 5]);
                proto.BucketCounts.AddRange([1, 2]);
                break;
            case "zero-count":
                proto.BucketIndexes.AddRange([5, 6]);
                proto.BucketCounts.AddRange([0, 3]);
                break;
            case "sum-mismatch":
                proto.Count = 4;
                proto.BucketIndexes.Add(5);
                proto.BucketCounts.Add(3);
                break;
            case "negative-count":
                proto.Count = -1;
                break;
            case "nan-sum":
                proto.BucketIndexes.Add(5);
                proto.BucketCounts.Add(3);
                proto.SumSeconds = double.NaN;
                break;
            case "min-over-max":
                proto.BucketIndexes.Add(5);
                proto.BucketCounts.Add(3);
                proto.MinSeconds = 2;
                break;
            case "empty-with-extremes":
                proto.Count = 0;
                break;
            default:
                throw new ArgumentException(kind, nameof(kind));
        }

        return proto;
    }
}
