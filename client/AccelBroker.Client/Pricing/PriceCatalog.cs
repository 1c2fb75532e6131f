using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Client.Pricing;

/// <summary>
/// Prices of instance types (client hosts, standalone CPU and GPU instances) and accelerator slice types, in
/// catalogue order. Immutable: <see cref="Load"/> and <see cref="WithSlices"/> return new catalogues.
/// </summary>
public sealed class PriceCatalog
{
    private const string DefaultResourceName = "AccelBroker.Client.default-prices.json";

    private static readonly Lazy<PriceCatalog> s_default = new(LoadDefault);

    private readonly Dictionary<string, InstancePrice> _instances;
    private readonly Dictionary<string, SlicePrice> _slices;

    /// <summary>Creates a catalogue; names must be unique within each list.</summary>
    /// <param name="instanceTypes">Instance types, in the order to list them.</param>
    /// <param name="sliceTypes">Slice types, in the order to list them.</param>
    public PriceCatalog(IEnumerable<InstancePrice> instanceTypes, IEnumerable<SlicePrice> sliceTypes)
    {
        InstanceTypes = [.. instanceTypes];
        SliceTypes = [.. sliceTypes];
        _instances = InstanceTypes.ToDictionary(t => t.Name, StringComparer.Ordinal);
        _slices = SliceTypes.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The built-in prices: the instance types and Elastic Inference slice types of the seed articles.</summary>
    public static PriceCatalog Default => s_default.Value;

    /// <summary>Instance types in catalogue order.</summary>
    public IReadOnlyList<InstancePrice> InstanceTypes { get; }

    /// <summary>Slice types in catalogue order.</summary>
    public IReadOnlyList<SlicePrice> SliceTypes { get; }

    /// <summary>Instance type names in catalogue order, for messages: "c5.large, m5.large, …".</summary>
    public string KnownInstanceNames => string.Join(", ", InstanceTypes.Select(t => t.Name));

    /// <summary>Slice type names in catalogue order, for messages.</summary>
    public string KnownSliceNames => string.Join(", ", SliceTypes.Select(t => t.Name));

    /// <summary>
    /// Applies an operator's prices file to <paramref name="baseCatalog"/>: its entries override same-named
    /// ones and add new ones, or, with <c>"replace": true</c>, each list the file gives replaces the base list.
    /// </summary>
    /// <param name="path">The JSON prices file.</param>
    /// <param name="baseCatalog">The prices the file changes.</param>
    /// <returns>The combined catalogue.</returns>
    /// <exception cref="InvalidDataException">The file cannot be read or is invalid; the message names the file and the problem.</exception>
    public static PriceCatalog Load(string path, PriceCatalog baseCatalog)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(baseCatalog);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"prices file '{path}' cannot be read: {ex.Message}", ex);
        }

        return Apply(json, $"prices file '{path}'", baseCatalog);
    }

    /// <summary>The prices a broker serves.</summary>
    /// <param name="prices">The broker's answer to ListPrices.</param>
    /// <returns>The same prices as a catalogue.</returns>
    public static PriceCatalog FromProto(ListPricesResponse prices)
    {
        ArgumentNullException.ThrowIfNull(prices);
        return new PriceCatalog(
            prices.InstanceTypes.Select(t => new InstancePrice(t.Name, t.PricePerHour, t.Kind, t.Vcpus, t.Gpu.Length == 0 ? null : t.Gpu)),
            prices.SliceTypes.Select(t => new SlicePrice(t.Name, t.PricePerHour)));
    }

    /// <summary>The catalogue as the ListPrices answer.</summary>
    /// <returns>A new message.</returns>
    public ListPricesResponse ToProto()
    {
        var response = new ListPricesResponse();
        response.InstanceTypes.AddRange(InstanceTypes.Select(t => new InstanceType { Name = t.Name, PricePerHour = t.PricePerHour, Kind = t.Kind, Vcpus = t.VCpus, Gpu = t.Gpu ?? "" }));
        response.SliceTypes.AddRange(SliceTypes.Select(t => new SliceType { Name = t.Name, PricePerHour = t.PricePerHour }));
        return response;
    }

    /// <summary>These prices with <paramref name="slices"/> overriding or extending the slice prices.</summary>
    /// <param name="slices">Slice prices that win, e.g. those of the broker's slice-type catalogue.</param>
    /// <returns>A new catalogue.</returns>
    public PriceCatalog WithSlices(IEnumerable<SlicePrice> slices) => new(InstanceTypes, Merge(SliceTypes, slices, s => s.Name));

    /// <summary>Looks up an instance type.</summary>
    /// <param name="name">Instance type name (case-sensitive).</param>
    /// <param name="price">Its price, when known.</param>
    /// <returns>Whether the type is known.</returns>
    public bool TryGetInstance(string name, [NotNullWhen(true)] out InstancePrice? price) => _instances.TryGetValue(name, out price);

    /// <summary>Looks up an instance type.</summary>
    /// <param name="name">Instance type name (case-sensitive).</param>
    /// <returns>Its price.</returns>
    /// <exception cref="ArgumentException">Unknown type; the message lists the known ones.</exception>
    public InstancePrice GetInstance(string name) => TryGetInstance(name, out InstancePrice? price)
        ? price
        : throw new ArgumentException($"unknown instance type '{name}'; known: {KnownInstanceNames}", nameof(name));

    /// <summary>Looks up a slice type.</summary>
    /// <param name="name">Slice type name (case-sensitive).</param>
    /// <param name="price">Its price, when known.</param>
    /// <returns>Whether the type is known.</returns>
    public bool TryGetSlice(string name, [NotNullWhen(true)] out SlicePrice? price) => _slices.TryGetValue(name, out price);

    /// <summary>Looks up a slice type.</summary>
    /// <param name="name">Slice type name (case-sensitive).</param>
    /// <returns>Its price.</returns>
    /// <exception cref="ArgumentException">Unknown type; the message lists the known ones.</exception>
    public SlicePrice GetSlice(string name) => TryGetSlice(name, out SlicePrice? price)
        ? price
        : throw new ArgumentException($"unknown slice type '{name}'; known: {KnownSliceNames}", nameof(name));

    private static PriceCatalog LoadDefault()
    {
        using Stream stream = typeof(PriceCatalog).Assembly.GetManifestResourceStream(DefaultResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {DefaultResourceName} is missing.");
        using var reader = new StreamReader(stream);
        return Apply(reader.ReadToEnd(), "the built-in prices", new PriceCatalog([], []));
    }

    private static PriceCatalog Apply(string json, string source, PriceCatalog baseCatalog)
    {
        PriceDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, PricingJsonContext.Default.PriceDocument);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source} is not valid JSON: {ex.Message}", ex);
        }

        if (document is null || (document.InstanceTypes is null && document.SliceTypes is null))
        {
            throw new InvalidDataException($"{source} has neither instance_types nor slice_types: expected {{\"instance_types\": [{{\"name\": …, \"price_per_hour\": …, \"kind\": \"cpu\"}}], \"slice_types\": [{{\"name\": …, \"price_per_hour\": …}}]}}");
        }

        bool replace = document.Replace ?? false;
        IEnumerable<InstancePrice> instances = baseCatalog.InstanceTypes;
        if (document.InstanceTypes is { } instanceEntries)
        {
            List<InstancePrice> parsed = Unique(instanceEntries.Select((e, i) => ValidateInstance(e, i, source)).ToList(), t => t.Name, source, "instance type");
            instances = replace ? parsed : Merge(baseCatalog.InstanceTypes, parsed, t => t.Name);
        }

        IEnumerable<SlicePrice> slices = baseCatalog.SliceTypes;
        if (document.SliceTypes is { } sliceEntries)
        {
            List<SlicePrice> parsed = Unique(sliceEntries.Select((e, i) => ValidateSlice(e, i, source)).ToList(), t => t.Name, source, "slice type");
            slices = replace ? parsed : Merge(baseCatalog.SliceTypes, parsed, t => t.Name);
        }

        return new PriceCatalog(instances, slices);
    }

    private static InstancePrice ValidateInstance(InstancePriceEntry? entry, int index, string source)
    {
        string where = Where(source, "instance type", index, entry?.Name);
        double price = ValidatePrice(entry?.Name, entry?.PricePerHour, where);
        string kind = entry!.Kind ?? "";
        if (kind is not (InstancePrice.CpuKind or InstancePrice.GpuKind))
        {
            throw new InvalidDataException($"{where}: kind must be \"cpu\" or \"gpu\", got '{kind}'");
        }

        if (entry.Vcpus is < 0)
        {
            throw new InvalidDataException($"{where}: vcpus must not be negative");
        }

        return new InstancePrice(entry.Name!, price, kind, entry.Vcpus ?? 0, string.IsNullOrWhiteSpace(entry.Gpu) ? null : entry.Gpu);
    }

    private static SlicePrice ValidateSlice(SlicePriceEntry? entry, int index, string source)
    {
        string where = Where(source, "slice type", index, entry?.Name);
        return new SlicePrice(entry!.Name!, ValidatePrice(entry.Name, entry.PricePerHour, where));
    }

    private static double ValidatePrice(string? name, double? pricePerHour, string where)
    {
        if (string.IsNullOrWhiteSpace(name) || name != name.Trim())
        {
            throw new InvalidDataException($"{where}: name must be given, without surrounding whitespace");
        }

        if (pricePerHour is not { } price || !(price >= 0) || double.IsInfinity(price))
        {
            throw new InvalidDataException($"{where}: price_per_hour must be given, finite and at least 0");
        }

        return price;
    }

    private static string Where(string source, string what, int index, string? name) =>
        string.Create(CultureInfo.InvariantCulture, $"{source}: {what} #{index + 1}") + (string.IsNullOrWhiteSpace(name) ? "" : $" ('{name}')");

    private static List<T> Unique<T>(List<T> items, Func<T, string> name, string source, string what)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (T item in items)
        {
            if (!seen.Add(name(item)))
            {
                throw new InvalidDataException($"{source}: {what} '{name(item)}' appears more than once");
            }
        }

        return items;
    }

    // Same-named entries are replaced in place, so the base order is kept; new ones follow.
    private static List<T> Merge<T>(IEnumerable<T> baseItems, IEnumerable<T> overrides, Func<T, string> name)
    {
        var merged = baseItems.ToList();
        foreach (T item in overrides)
        {
            int at = merged.FindIndex(existing => name(existing) == name(item));
            if (at >= 0)
            {
                merged[at] = item;
            }
            else
            {
                merged.Add(item);
            }
        }

        return merged;
    }
}
