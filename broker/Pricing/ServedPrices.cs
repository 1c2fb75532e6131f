using AccelBroker.Broker.Catalog;

namespace AccelBroker.Broker.Pricing;

/// <summary>
/// The prices a broker serves and costs usage with: the built-in ones, the slice catalogue's (what the broker
/// sells), then an operator's prices file, which has the last word. The arithmetic itself is the client library's
/// (<see cref="PriceCatalog"/>, <see cref="CostModel"/>), so the broker and the accel CLI cannot disagree.
/// </summary>
internal static class ServedPrices
{
    public static PriceCatalog Load(BrokerOptions options, SliceTypeCatalog catalog)
    {
        PriceCatalog prices = PriceCatalog.Default.WithSlices(catalog.SliceTypes.Select(t => new SlicePrice(t.Name, t.PricePerHour)));
        try
        {
            return options.PricesPath is null ? prices : PriceCatalog.Load(options.PricesPath, prices);
        }
        catch (InvalidDataException ex)
        {
            throw new BrokerConfigurationException(ex.Message, ex);
        }
    }
}
