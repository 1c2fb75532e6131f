using System.Globalization;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Protocol.Wire;

/// <summary>
/// A latency histogram in seconds with fixed logarithmic buckets, so histograms from agents and clients can be
/// added up and percentiles read with a known error. Bucket <c>i</c> covers
/// [1 µs × 1.02^i, 1 µs × 1.02^(i+1)); values below 1 µs fall in bucket 0 and values of 1 µs × 1.02^<see cref="TopBucket"/>
/// (about 61 minutes) and more in the top bucket, which has no upper bound.
/// </summary>
/// <remarks>
/// <para>
/// Percentiles are nearest rank over the buckets: the bucket holding the ⌈p/100 × count⌉-th smallest value,
/// reported as that bucket's upper bound clamped to [<see cref="Min"/>, <see cref="Max"/>]. A reported
/// percentile is therefore never below the exact nearest-rank sample and at most 2 % above it (between 1 µs
/// and the top bucket; below 1 µs the error is at most 1.02 µs; in the top bucket it is <see cref="Max"/>).
/// </para>
/// <para>Thread-safe: every member takes one lock, so many threads may record into one histogram.</para>
/// </remarks>
internal sealed class LatencyHistogram
{
    /// <summary>Growth factor between bucket bounds.</summary>
    public const double Growth = 1.02;

    /// <summary>Lower bound of bucket 1 divided by <see cref="Growth"/>: one microsecond.</summary>
    public const double BaseSeconds = 1e-6;

    /// <summary>Index of the last bucket; it holds every value from about 61 minutes up.</summary>
    public const int TopBucket = 1112;

    /// <summary>Number of buckets.</summary>
    public const int BucketCount = TopBucket + 1;

    // s_lower[i] is bucket i's lower bound; s_lower[i + 1] its upper bound. One table, so that recording and
    // reading agree to the last bit.
    private static readonly double[] s_lower = BuildBounds();
    private static readonly double s_logGrowth = Math.Log(Growth);

    private readonly Lock _lock = new();
    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private double _sum;
    private double _min;
    private double _max;

    /// <summary>Values recorded.</summary>
    public long Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Sum of the values recorded, in seconds.</summary>
    public double Sum
    {
        get
        {
            lock (_lock)
            {
                return _sum;
            }
        }
    }

    /// <summary>Smallest value recorded (exact), 0 when empty.</summary>
    public double Min
    {
        get
        {
            lock (_lock)
            {
                return _min;
            }
        }
    }

    /// <summary>Largest value recorded (exact), 0 when empty.</summary>
    public double Max
    {
        get
        {
            lock (_lock)
            {
                return _max;
            }
        }
    }

    /// <summary>Mean of the values recorded (exact), 0 when empty.</summary>
    public double Mean
    {
        get
        {
            lock (_lock)
            {
                return _count == 0 ? 0 : _sum / _count;
            }
        }
    }

    /// <summary>The bucket a value falls in.</summary>
    /// <param name="seconds">A duration, at least 0.</param>
    /// <returns>0 to <see cref="TopBucket"/>.</returns>
    public static int BucketOf(double seconds)
    {
        if (!(seconds >= s_lower[1]))
        {
            return 0;
        }

        if (seconds >= s_lower[TopBucket])
        {
            return TopBucket;
        }

        // The logarithm lands within one bucket; the table decides.
        int index = Math.Clamp((int)Math.Floor(Math.Log(seconds / BaseSeconds) / s_logGrowth), 1, TopBucket - 1);
        while (index < TopBucket - 1 && seconds >= s_lower[index + 1])
        {
            index++;
        }

        while (index > 1 && seconds < s_lower[index])
        {
            index--;
        }

        return index;
    }

    /// <summary>Upper bound of a bucket in seconds; <see cref="double.PositiveInfinity"/> for the top bucket.</summary>
    /// <param name="index">0 to <see cref="TopBucket"/>.</param>
    /// <returns>The first value that falls in the next bucket.</returns>
    public static double UpperBound(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, TopBucket);
        return index == TopBucket ? double.PositiveInfinity : s_lower[index + 1];
    }

    /// <summary>Records one duration.</summary>
    /// <param name="seconds">At least 0 and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">Negative, NaN or infinite.</exception>
    public void Record(double seconds)
    {
        if (!(seconds >= 0) || double.IsPositiveInfinity(seconds))
        {
            throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "a duration must be finite and at least 0");
        }

        int bucket = BucketOf(seconds);
        lock (_lock)
        {
            _counts[bucket]++;
            _min = _count == 0 ? seconds : Math.Min(_min, seconds);
            _max = _count == 0 ? seconds : Math.Max(_max, seconds);
            _count++;
            _sum += seconds;
        }
    }

    /// <summary>Adds every value of <paramref name="other"/> to this histogram.</summary>
    /// <param name="other">Left unchanged; may be this histogram.</param>
    public void Merge(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        // Copy first, so the two locks are never held together.
        (long[] counts, long count, double sum, double min, double max) = other.Copy();
        if (count == 0)
        {
            return;
        }

        lock (_lock)
        {
            for (int i = 0; i < BucketCount; i++)
            {
                _counts[i] += counts[i];
            }

            _min = _count == 0 ? min : Math.Min(_min, min);
            _max = _count == 0 ? max : Math.Max(_max, max);
            _count += count;
            _sum += sum;
        }
    }

    /// <summary>
    /// Nearest-rank percentile: the upper bound of the bucket holding the ⌈p/100 × count⌉-th smallest value,
    /// clamped to [<see cref="Min"/>, <see cref="Max"/>]; 0 when empty.
    /// </summary>
    /// <param name="percent">In (0, 100].</param>
    /// <returns>Seconds.</returns>
    public double Percentile(double percent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        lock (_lock)
        {
            return PercentileLocked(percent);
        }
    }

    /// <summary>Count, mean, P50, P90, P95, P99, min and max from one consistent view.</summary>
    /// <returns>A new message; all zeros when empty.</returns>
    public LatencyStats ToStats()
    {
        lock (_lock)
        {
            return new LatencyStats
            {
                Count = _count,
                MeanSeconds = _count == 0 ? 0 : _sum / _count,
                P50Seconds = PercentileLocked(50),
                P90Seconds = PercentileLocked(90),
                P95Seconds = PercentileLocked(95),
                P99Seconds = PercentileLocked(99),
                MinSeconds = _min,
                MaxSeconds = _max,
            };
        }
    }

    /// <summary>The histogram as sent on the wire: only non-empty buckets.</summary>
    /// <returns>A new message.</returns>
    public Histogram ToProto()
    {
        var proto = new Histogram();
        lock (_lock)
        {
            proto.Count = _count;
            proto.SumSeconds = _sum;
            proto.MinSeconds = _min;
            proto.MaxSeconds = _max;
            for (int i = 0; i < BucketCount; i++)
            {
                if (_counts[i] > 0)
                {
                    proto.BucketIndexes.Add(i);
                    proto.BucketCounts.Add(_counts[i]);
                }
            }
        }

        return proto;
    }

    /// <summary>Reads a histogram from the wire, checking that it is well formed; an absent one is empty.</summary>
    /// <param name="proto">The message, or <see langword="null"/>.</param>
    /// <returns>A new histogram.</returns>
    /// <exception cref="InvalidDataException">The message is malformed; the message says how.</exception>
    public static LatencyHistogram FromProto(Histogram? proto)
    {
        var histogram = new LatencyHistogram();
        if (proto is null)
        {
            return histogram;
        }

        string? problem = FindProblem(proto);
        if (problem is not null)
        {
            throw new InvalidDataException(problem);
        }

        for (int i = 0; i < proto.BucketIndexes.Count; i++)
        {
            histogram._counts[proto.BucketIndexes[i]] = proto.BucketCounts[i];
        }

        histogram._count = proto.Count;
        histogram._sum = proto.SumSeconds;
        histogram._min = proto.MinSeconds;
        histogram._max = proto.MaxSeconds;
        return histogram;
    }

    /// <summary>Why a wire histogram is malformed, or <see langword="null"/> when it is well formed.</summary>
    /// <param name="proto">The message.</param>
    /// <returns>A reason such as "bucket_indexes has 3 entries but bucket_counts has 2".</returns>
    public static string? FindProblem(Histogram proto)
    {
        ArgumentNullException.ThrowIfNull(proto);
        int buckets = proto.BucketIndexes.Count;
        if (buckets != proto.BucketCounts.Count)
        {
            return Invariant($"bucket_indexes has {buckets} entries but bucket_counts has {proto.BucketCounts.Count}");
        }

        if (proto.Count < 0)
        {
            return Invariant($"count must not be negative (got {proto.Count})");
        }

        long total = 0;
        for (int i = 0; i < buckets; i++)
        {
            int index = proto.BucketIndexes[i];
            if (index is < 0 or > TopBucket)
            {
                return Invariant($"bucket index {index} is outside 0..{TopBucket}");
            }

            if (i > 0 && index <= proto.BucketIndexes[i - 1])
            {
                return Invariant($"bucket indexes must increase, but {index} follows {proto.BucketIndexes[i - 1]}");
            }

            long count = proto.BucketCounts[i];
            if (count <= 0)
            {
                return Invariant($"bucket {index} has count {count}; only non-empty buckets are sent");
            }

            if (count > long.MaxValue - total)
            {
                return "bucket counts overflow";
            }

            total += count;
        }

        if (total != proto.Count)
        {
            return Invariant($"bucket counts add up to {total} but count is {proto.Count}");
        }

        if (!IsDuration(proto.SumSeconds) || !IsDuration(proto.MinSeconds) || !IsDuration(proto.MaxSeconds))
        {
            return "sum_seconds, min_seconds and max_seconds must be finite and at least 0";
        }

        if (proto.Count == 0 && (proto.SumSeconds != 0 || proto.MinSeconds != 0 || proto.MaxSeconds != 0))
        {
            return "an empty histogram must have sum_seconds, min_seconds and max_seconds 0";
        }

        if (proto.MinSeconds > proto.MaxSeconds)
        {
            return Invariant($"min_seconds {proto.MinSeconds} exceeds max_seconds {proto.MaxSeconds}");
        }

        return null;
    }

    private static bool IsDuration(double seconds) => seconds >= 0 && !double.IsPositiveInfinity(seconds);

    private static string Invariant(FormattableString message) => message.ToString(CultureInfo.InvariantCulture);

    private static double[] BuildBounds()
    {
        var bounds = new double[BucketCount + 1];
        bounds[0] = 0;
        for (int i = 1; i <= BucketCount; i++)
        {
            bounds[i] = BaseSeconds * Math.Pow(Growth, i);
        }

        return bounds;
    }

    private double PercentileLocked(double percent)
    {
        if (_count == 0)
        {
            return 0;
        }

        long rank = Math.Clamp((long)Math.Ceiling(percent / 100 * _count), 1, _count);
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Clamp(UpperBound(i), _min, _max);
            }
        }

        return _max;
    }

    private (long[] Counts, long Count, double Sum, double Min, double Max) Copy()
    {
        lock (_lock)
        {
            return ((long[])_counts.Clone(), _count, _sum, _min, _max);
        }
    }
}
