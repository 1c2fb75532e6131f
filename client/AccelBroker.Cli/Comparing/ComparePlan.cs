using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Client.Pricing;

namespace AccelBroker.Cli.Comparing;

/// <summary>The combinations one <c>accel compare</c> measures, named and checked before anything is attached.</summary>
internal sealed record ComparePlan(string[] Hosts, string[] Slices, string[] Standalones, string? Baseline)
{
    public static ComparePlan Of(string? hosts, string? slices, string? standalones, string? baseline)
    {
        var plan = new ComparePlan(List(hosts), List(slices), List(standalones), string.IsNullOrWhiteSpace(baseline) ? null : baseline.Trim());
        if (plan.Slices.Length == 0 && plan.Standalones.Length == 0)
        {
            throw new CliException("nothing to compare: give --slice-types (with --host-types) and/or --standalone");
        }

        if (plan.Slices.Length > 0 && plan.Hosts.Length == 0)
        {
            throw new CliException("--slice-types needs --host-types: the accelerators are priced with each host type");
        }

        string[] rows = [.. plan.RowNames()];
        return plan.Baseline is { } b && !rows.Contains(b, StringComparer.Ordinal)
            ? throw new CliException($"--baseline '{b}' is not a row of this comparison; rows: {string.Join(", ", rows)}")
            : plan;
    }

    public static string AttachedName(string hostType, string sliceType) => $"{hostType} + {sliceType}";

    public IEnumerable<string> RowNames() => Slices.SelectMany(s => Hosts.Select(h => AttachedName(h, s))).Concat(Standalones);

    /// <summary>Every type must be in the catalogue; an unknown one is refused listing the known ones.</summary>
    public void Check(PriceCatalog catalog)
    {
        Check(Hosts, "host type", n => catalog.TryGetInstance(n, out _), catalog.KnownInstanceNames);
        Check(Slices, "slice type", n => catalog.TryGetSlice(n, out _), catalog.KnownSliceNames);
        Check(Standalones, "standalone instance type", n => catalog.TryGetInstance(n, out _), catalog.KnownInstanceNames);
    }

    /// <summary>Measures each slice type once (priced with each host type) and each standalone type; rows in plan order.</summary>
    public async Task<IReadOnlyList<CompareRow>> MeasureAsync(CompareMeasurer measuring, FleetClient fleet, PriceCatalog catalog, CompareWorkload work, double sloMs, long batch, CancellationToken cancellationToken)
    {
        var rows = new List<CompareRow>();
        Dictionary<string, long> memory = Slices.Length == 0
            ? []
            : (await fleet.ListSliceTypesAsync(cancellationToken)).ToDictionary(t => t.Name, t => t.MemoryBytes, StringComparer.Ordinal);
        int measurement = 0;
        foreach (string slice in Slices)
        {
            CompareOutcome outcome = await measuring.AttachedAsync(Hosts[0], slice, memory.TryGetValue(slice, out long bytes) ? bytes : null, cancellationToken);
            measurement++;
            foreach (string hostType in Hosts)
            {
                double price = catalog.GetInstance(hostType).PricePerHour + catalog.GetSlice(slice).PricePerHour;
                rows.Add(Row(AttachedName(hostType, slice), CompareRow.HostAccelerator, hostType, slice, price, outcome, work, sloMs, batch, measurement));
            }
        }

        foreach (string name in Standalones)
        {
            InstancePrice instance = catalog.GetInstance(name);
            CompareOutcome outcome = instance.Kind == InstancePrice.GpuKind
                ? await measuring.GpuAgentAsync(name, cancellationToken)
                : await measuring.InProcessAsync(name, cancellationToken);
            rows.Add(Row(name, CompareRow.KindOf(instance.Kind), null, null, instance.PricePerHour, outcome, work, sloMs, batch, ++measurement));
        }

        return rows;
    }

    private static CompareRow Row(string instance, string kind, string? hostType, string? slice, double price, CompareOutcome outcome, CompareWorkload work, double sloMs, long batch, int measurement) =>
        outcome.Result is { } result
            ? CompareRow.Of(instance, kind, hostType, slice, price, batch, result, outcome.ExecutedOn!, outcome.MeasuredHow!, sloMs, outcome.Accuracy, measurement)
            : CompareRow.NotMeasured(instance, kind, hostType, slice, price, batch, work.Concurrency, outcome.Reason!, outcome.DoesNotFit);

    private static string[] List(string? text) =>
        [.. (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];

    private static void Check(string[] names, string what, Func<string, bool> known, string knownNames)
    {
        foreach (string name in names)
        {
            if (!known(name))
            {
                throw new CliException($"unknown {what} '{name}'; known: {knownNames}");
            }
        }
    }
}
