namespace AccelBroker.Client.Pricing;

/// <summary>An accelerator slice type and its price.</summary>
/// <param name="Name">Slice type, e.g. <c>eia2.medium</c>.</param>
/// <param name="PricePerHour">US dollars per hour.</param>
public sealed record SlicePrice(string Name, double PricePerHour);
