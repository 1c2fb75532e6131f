namespace AccelBroker.Benchmarks;

/// <summary>The command line: which benchmarks to run, how long, and where to write JSON.</summary>
internal sealed record BenchmarkSettings
{
    public const string Usage =
        "usage: dotnet run -c Release --project tests/AccelBroker.Benchmarks -- [--quick] [--json FILE] [--only tiny,auth,resnet18,tensor64,model100,batching,failover,drain,loadgen,soak] [--soak-minutes M]";

    public static readonly IReadOnlyList<string> AllNames = ["tiny", "auth", "resnet18", "tensor64", "model100", "batching", "failover", "drain", "loadgen", "soak"];

    /// <summary>What runs without --only: every benchmark but the soak, which takes half an hour.</summary>
    public static readonly IReadOnlyList<string> DefaultNames = [.. AllNames.Where(n => n != "soak")];

    /// <summary>Small counts for a smoke run (under a minute once the models exist).</summary>
    public bool Quick { get; init; }

    public string? JsonPath { get; init; }

    /// <summary>Benchmarks to run, in <see cref="AllNames"/> order.</summary>
    public IReadOnlyList<string> Selected { get; init; } = DefaultNames;

    /// <summary>How long the soak runs; the issue asks for 30 minutes.</summary>
    public double SoakMinutes { get; init; } = 30;

    public bool Help { get; init; }

    /// <exception cref="ArgumentException">An unknown option or benchmark name, or a missing value.</exception>
    public static BenchmarkSettings Parse(IReadOnlyList<string> args)
    {
        var settings = new BenchmarkSettings();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "--quick":
                    settings = settings with { Quick = true };
                    break;
                case "--json":
                    settings = settings with { JsonPath = ValueOf(args, ref i, arg) };
                    break;
                case "--only":
                    settings = settings with { Selected = ParseNames(ValueOf(args, ref i, arg)) };
                    break;
                case "--soak-minutes":
                    settings = settings with { SoakMinutes = ParseMinutes(ValueOf(args, ref i, arg)) };
                    break;
                case "-h" or "--help":
                    settings = settings with { Help = true };
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{arg}'");
            }
        }

        return settings;
    }

    private static string ValueOf(IReadOnlyList<string> args, ref int i, string option)
    {
        if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"{option} needs a value");
        }

        i++;
        return args[i];
    }

    private static double ParseMinutes(string text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double minutes) && minutes >= 1 && minutes <= 24 * 60
            ? minutes
            : throw new ArgumentException($"--soak-minutes takes a number of minutes from 1 to 1440, not '{text}'");

    private static List<string> ParseNames(string list)
    {
        var requested = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant())
            .ToHashSet(StringComparer.Ordinal);
        foreach (string name in requested)
        {
            if (!AllNames.Contains(name))
            {
                throw new ArgumentException($"unknown benchmark '{name}' (known: {string.Join(", ", AllNames)})");
            }
        }

        if (requested.Count == 0)
        {
            throw new ArgumentException("--only needs at least one benchmark name");
        }

        return AllNames.Where(requested.Contains).ToList();
    }
}
