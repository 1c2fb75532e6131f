namespace AccelBroker.Client.Pricing;

/// <summary>
/// The JSON shape of a prices file: <c>{"replace": false, "instance_types": [{"name", "price_per_hour", "kind",
/// "vcpus", "gpu"}], "slice_types": [{"name", "price_per_hour"}]}</c>. Every field is optional here so that a
/// missing one gets a clear message.
/// </summary>
internal sealed class PriceDocument
{
    /// <summary>True: each list the file gives replaces the base list; false: its entries override or extend it.</summary>
    public bool? Replace { get; set; }

    public List<InstancePriceEntry?>? InstanceTypes { get; set; }

    public List<SlicePriceEntry?>? SliceTypes { get; set; }
}

/// <summary>One instance type as written in a prices file.</summary>
internal sealed class InstancePriceEntry
{
    public string? Name { get; set; }

    public double? PricePerHour { get; set; }

    public string? Kind { get; set; }

    public int? Vcpus { get; set; }

    public string? Gpu { get; set; }
}

/// <summary>One slice type as written in a prices file.</summary>
internal sealed class SlicePriceEntry
{
    public string? Name { get; set; }

    public double? PricePerHour { get; set; }
}
