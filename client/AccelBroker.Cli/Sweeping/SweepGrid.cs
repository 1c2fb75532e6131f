using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Cli.Measuring;

namespace AccelBroker.Cli.Sweeping;

/// <summary>The grid of <c>accel sweep</c>: precisions × batch sizes × concurrencies, each list comma-separated on the command line.</summary>
internal sealed record SweepGrid(IReadOnlyList<string> Precisions, IReadOnlyList<int> Batches, IReadOnlyList<int> Concurrencies)
{
    public const int MaxCells = 1000;

    public int Cells => Precisions.Count * Batches.Count * Concurrencies.Count;

    public static SweepGrid Parse(string precisions, string batches, string concurrencies)
    {
        string[] p = Split("--precision", precisions);
        foreach (string value in p)
        {
            if (value is not ("fp32" or "fp16" or "bf16"))
            {
                throw new CliException($"--precision takes fp32, fp16 and bf16, comma-separated, got '{value}'");
            }
        }

        var grid = new SweepGrid(p, Numbers("--batch", batches, 1, 65_536), [.. Numbers("--concurrency", concurrencies, 1, LoadOptions.MaxCallers)]);
        return grid.Cells > MaxCells ? throw new CliException($"the grid has {grid.Cells} cells; at most {MaxCells}") : grid;
    }

    private static string[] Split(string option, string text)
    {
        string[] parts = [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal)];
        return parts.Length == 0 ? throw new CliException($"{option} needs at least one value, e.g. {option} 1,4,8") : parts;
    }

    private static int[] Numbers(string option, string text, int min, int max)
    {
        string[] parts = Split(option, text);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) || values[i] < min || values[i] > max)
            {
                throw new CliException($"{option} takes comma-separated integers from {min} to {max}, such as 1,4,8, got '{text}'");
            }
        }

        return [.. values.Order()];
    }
}
