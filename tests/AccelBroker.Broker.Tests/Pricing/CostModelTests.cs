using AccelBroker.Client.Pricing;
using Xunit;

namespace AccelBroker.Tests.Pricing;

/// <summary>The formulas against the figures the seed articles published.</summary>
public sealed class CostModelTests
{
    [Theory]
    // Seed 002: c5.large + eia2.medium ($0.085 + $0.12 = $0.21/h in its table), mean 10.03 ms -> $0.0585 (rounded to $0.06 there).
    [InlineData(0.21, 0.01003, 0.0585)]
    // Seed 002: g4dn.xlarge $0.53/h, mean 5.92 ms -> $0.0872 ($0.09 there).
    [InlineData(0.53, 0.00592, 0.0872)]
    // Seed 002's p3.2xlarge row, which its own table computes on P90 (9.60 ms): $0.82.
    [InlineData(3.06, 0.0096, 0.816)]
    public void PerHundredThousandMatchesSeed002(double pricePerHour, double meanSeconds, double expected)
    {
        Assert.Equal(expected, CostModel.PerHundredThousand(pricePerHour, meanSeconds), 4);
    }

    [Theory]
    // Seed 000: BERT-base, batch 32, fp32: g5.4xlarge 723 items/s at $1.624/h -> $0.62 per million ($0.6 there).
    [InlineData(1.624, 723, 0.624)]
    // g4dn.4xlarge 154 items/s at $1.204/h -> $2.17 ($2.2 there).
    [InlineData(1.204, 154, 2.172)]
    public void PerMillionItemsMatchesSeed000(double pricePerHour, double itemsPerSecond, double expected)
    {
        Assert.Equal(expected, CostModel.PerMillionItems(pricePerHour, itemsPerSecond), 3);
    }

    [Fact]
    public void TheDefaultCatalogueReproducesSeed002sCombinationPrice()
    {
        PriceCatalog prices = PriceCatalog.Default;
        double combined = prices.GetInstance("c5.large").PricePerHour + prices.GetSlice("eia2.medium").PricePerHour;

        Assert.Equal(0.205, combined, 6);
        Assert.Equal(0.0571, CostModel.PerHundredThousand(combined, 0.01003), 4);
    }

    [Fact]
    public void ImpossibleInputsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CostModel.PerHundredThousand(-1, 0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => CostModel.PerHundredThousand(1, -0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => CostModel.PerMillionItems(1, 0));
    }
}
