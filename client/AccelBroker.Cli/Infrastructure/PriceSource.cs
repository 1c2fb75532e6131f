using AccelBroker.Client;
using AccelBroker.Client.Pricing;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>The prices a verb uses: the broker's, with the operator's <c>--prices FILE</c> applied on top.</summary>
internal static class PriceSource
{
    public static async Task<PriceCatalog> LoadAsync(FleetClient fleet, string? pricesPath, CancellationToken cancellationToken)
    {
        PriceCatalog prices = await fleet.GetPricesAsync(cancellationToken);
        try
        {
            return pricesPath is null ? prices : PriceCatalog.Load(pricesPath, prices);
        }
        catch (InvalidDataException ex)
        {
            throw new CliException(ex.Message);
        }
    }
}
