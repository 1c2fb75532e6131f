namespace AccelBroker.Broker.Catalog;

/// <summary>The JSON shape of a catalogue file: <c>{"slice_types":[{"name":…,"memory_mib":…}, …]}</c>.</summary>
internal sealed class CatalogDocument
{
    public List<CatalogEntry?>? SliceTypes { get; set; }
}

/// <summary>One slice type as written in a catalogue file; every field is optional here so that a missing one gets a clear message.</summary>
internal sealed class CatalogEntry
{
    public string? Name { get; set; }

    public long? MemoryMib { get; set; }

    public double? ComputeShare { get; set; }

    public double? PricePerHour { get; set; }

    public double? Fp32Tflops { get; set; }

    public double? Fp16Tflops { get; set; }
}
