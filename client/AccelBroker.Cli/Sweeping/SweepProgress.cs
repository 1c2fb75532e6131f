using AccelBroker.Cli.Load;
using Spectre.Console;

namespace AccelBroker.Cli.Sweeping;

/// <summary>The sweep's live display (only on a terminal): which cell runs, the cell's own bar, and the time the grid has left.</summary>
internal static class SweepProgress
{
    public static async Task<T> RunAsync<T>(SweepGrid grid, StopRule stop, Func<Action<int, string>, Action<LoadProgress>, Task<T>> run)
    {
        double perCell = stop.Duration?.TotalSeconds ?? (stop.Windows.Length.TotalSeconds * stop.MaxWindows);
        T? result = default;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                ProgressTask all = context.AddTask($"sweep: {grid.Cells} cells", maxValue: grid.Cells * perCell);
                ProgressTask cell = context.AddTask("starting", maxValue: perCell);
                int index = 0;
                result = await run(
                    (i, name) =>
                    {
                        index = i;
                        cell.Description = $"cell {i + 1}/{grid.Cells}: {name}";
                        cell.Value = 0;
                    },
                    p =>
                    {
                        double seconds = Math.Min(p.Elapsed.TotalSeconds, perCell);
                        cell.Value = seconds;
                        all.Value = (index * perCell) + seconds;
                    });
            });
        return result!;
    }
}
