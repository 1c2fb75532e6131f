using AccelBroker.Client.Pricing;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Measuring;

/// <summary>The hourly prices a cost figure used: the attachment's host instance type plus its slice type.</summary>
internal sealed record UsedPrices(string? HostType, double? HostPricePerHour, string SliceType, double SlicePricePerHour)
{
    public double PricePerHour => (HostPricePerHour ?? 0) + SlicePricePerHour;

    /// <summary>Prices of an attachment; an unknown type is an error listing the known ones.</summary>
    public static UsedPrices For(PriceCatalog catalog, Accelerator accelerator)
    {
        SlicePrice slice = catalog.GetSlice(accelerator.SliceType);
        if (accelerator.HostType.Length == 0)
        {
            return new UsedPrices(null, null, slice.Name, slice.PricePerHour);
        }

        InstancePrice host = catalog.GetInstance(accelerator.HostType);
        return new UsedPrices(host.Name, host.PricePerHour, slice.Name, slice.PricePerHour);
    }
}
