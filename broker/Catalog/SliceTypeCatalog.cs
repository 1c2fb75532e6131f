using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using AccelBroker.Broker.Internal;

namespace AccelBroker.Broker.Catalog;

/// <summary>The slice types the broker offers, in catalogue order.</summary>
internal sealed class SliceTypeCatalog
{
    private const string DefaultResourceName = "AccelBroker.Broker.default-slice-types.json";
    private const long BytesPerMib = 1024 * 1024;

    private readonly Dictionary<string, SliceTypeSpec> _byName;

    public SliceTypeCatalog(IReadOnlyList<SliceTypeSpec> sliceTypes)
    {
        SliceTypes = sliceTypes;
        _byName = sliceTypes.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public IReadOnlyList<SliceTypeSpec> SliceTypes { get; }

    /// <summary>Names in catalogue order, for messages: "eia2.medium, eia2.large, eia2.xlarge".</summary>
    public string KnownNames => string.Join(", ", SliceTypes.Select(t => t.Name));

    public bool TryGet(string name, [NotNullWhen(true)] out SliceTypeSpec? sliceType) =>
        _byName.TryGetValue(name, out sliceType);

    /// <summary>The built-in eia2 catalogue.</summary>
    public static SliceTypeCatalog LoadDefault()
    {
        using Stream stream = typeof(SliceTypeCatalog).Assembly.GetManifestResourceStream(DefaultResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {DefaultResourceName} is missing.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "the built-in catalogue");
    }

    /// <summary>Reads and validates a catalogue file.</summary>
    /// <exception cref="BrokerConfigurationException">The file is missing, unreadable or invalid.</exception>
    public static SliceTypeCatalog LoadFile(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BrokerConfigurationException($"catalog file '{path}' cannot be read: {ex.Message}", ex);
        }

        return Parse(json, $"catalog file '{path}'");
    }

    /// <summary>Parses and validates catalogue JSON; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="BrokerConfigurationException">The JSON is malformed or a slice type is invalid.</exception>
    public static SliceTypeCatalog Parse(string json, string source)
    {
        CatalogDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, BrokerJsonContext.Default.CatalogDocument);
        }
        catch (JsonException ex)
        {
            throw new BrokerConfigurationException($"{source} is not valid JSON: {ex.Message}", ex);
        }

        if (document?.SliceTypes is not { Count: > 0 } entries)
        {
            throw new BrokerConfigurationException($"{source} has no slice types: expected {{\"slice_types\": [{{\"name\": …, \"memory_mib\": …, \"compute_share\": …, \"price_per_hour\": …}}]}}");
        }

        var sliceTypes = new List<SliceTypeSpec>(entries.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < entries.Count; i++)
        {
            SliceTypeSpec sliceType = Validate(entries[i], i, source);
            if (!names.Add(sliceType.Name))
            {
                throw new BrokerConfigurationException($"{source}: slice type name '{sliceType.Name}' appears more than once");
            }

            sliceTypes.Add(sliceType);
        }

        return new SliceTypeCatalog(sliceTypes);
    }

    private static SliceTypeSpec Validate(CatalogEntry? entry, int index, string source)
    {
        string where = string.Create(CultureInfo.InvariantCulture, $"{source}: slice type #{index + 1}");
        if (entry is null)
        {
            throw new BrokerConfigurationException($"{where} is null");
        }

        if (string.IsNullOrWhiteSpace(entry.Name))
        {
            throw new BrokerConfigurationException($"{where} has an empty name");
        }

        if (entry.Name != entry.Name.Trim())
        {
            throw new BrokerConfigurationException($"{where}: name '{entry.Name}' starts or ends with whitespace");
        }

        where = $"{where} ('{entry.Name}')";
        if (entry.MemoryMib is not { } memoryMib || memoryMib <= 0)
        {
            throw new BrokerConfigurationException($"{where}: memory_mib must be greater than 0");
        }

        if (memoryMib > long.MaxValue / BytesPerMib)
        {
            throw new BrokerConfigurationException($"{where}: memory_mib is too large");
        }

        if (entry.ComputeShare is not { } share || !(share > 0 && share <= 1))
        {
            throw new BrokerConfigurationException($"{where}: compute_share must be greater than 0 and at most 1");
        }

        if (entry.PricePerHour is not { } price || !(price >= 0))
        {
            throw new BrokerConfigurationException($"{where}: price_per_hour must be given and at least 0");
        }

        double fp32 = entry.Fp32Tflops ?? 0;
        double fp16 = entry.Fp16Tflops ?? 0;
        if (!(fp32 >= 0) || !(fp16 >= 0))
        {
            throw new BrokerConfigurationException($"{where}: fp32_tflops and fp16_tflops must be at least 0");
        }

        return new SliceTypeSpec(entry.Name, memoryMib * BytesPerMib, share, price, fp32, fp16);
    }
}
