using AccelBroker.Client;
using Xunit;

namespace AccelBroker.Tests.Client;

/// <summary>The percentile definition every latency report states: nearest rank, no interpolation.</summary>
public sealed class NearestRankTests
{
    // 1..10: nearest rank of p is the ceil(p/100 × 10)-th smallest sample.
    private static readonly double[] OneToTen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

    [Theory]
    [InlineData(50, 5)]
    [InlineData(90, 9)]
    [InlineData(95, 10)]
    [InlineData(99, 10)]
    [InlineData(100, 10)]
    [InlineData(10, 1)]
    [InlineData(1, 1)]
    [InlineData(51, 6)]
    public void PercentilesOfAKnownSample(double percent, double expected) =>
        Assert.Equal(expected, NearestRank.Percentile(OneToTen, percent));

    [Fact]
    public void ASingleSampleIsEveryPercentile() => Assert.Equal(7.5, NearestRank.Percentile([7.5], 50));

    [Fact]
    public void NoSamplesOrAPercentOutOfRangeAreRefused()
    {
        Assert.Throws<ArgumentException>(() => NearestRank.Percentile([], 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => NearestRank.Percentile(OneToTen, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => NearestRank.Percentile(OneToTen, 101));
    }
}
