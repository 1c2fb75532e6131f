using AccelBroker.Client.Pricing;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Infrastructure;

/// <summary>The prices a verb uses: the broker's, with the operator's <c>--prices FILE</c> applied on top.</summary>
internal static class PriceSource
{
    public static async Task<PriceCatalog> LoadAsync(BrokerConnection broker, string? pricesPath, CancellationToken cancellationToken)
    {
        ListPricesResponse served = await broker.Client.ListPricesAsync(new ListPricesRequest(), deadline: BrokerConnection.Deadline, cancellationToken: cancellationToken);
        PriceCatalog prices = PriceCatalog.FromProto(served);
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
