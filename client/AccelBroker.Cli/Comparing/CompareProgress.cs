using Spectre.Console;

namespace AccelBroker.Cli.Comparing;

/// <summary>A progress bar per measured combination, ticking once per measured run; nothing when output is not a terminal.</summary>
internal static class CompareProgress
{
    public static async Task<T> RunAsync<T>(bool show, string label, int runs, Func<Action?, Task<T>> measure)
    {
        if (!show)
        {
            return await measure(null);
        }

        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                ProgressTask task = context.AddTask(Markup.Escape(label), maxValue: runs);
                result = await measure(() => task.Increment(1));
            });
        return result;
    }
}
