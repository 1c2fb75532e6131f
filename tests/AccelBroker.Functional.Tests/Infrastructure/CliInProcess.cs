using AccelBroker.Cli;
using Spectre.Console;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>
/// Runs an accel verb in this process on a recording console, without a terminal as <see cref="CliProcess"/> runs it
/// (80 columns, no colours, nothing interactive), and returns what it printed the way <see cref="CliProcess"/> does.
/// Pass <c>--broker</c> explicitly: unlike the process, this one sees the test process's environment.
/// </summary>
internal static class CliInProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static async Task<CliProcess.Result> RunAsync(params string[] args)
    {
        args = TestCredentials.WithKey(args);
        using var output = new StringWriter();
        using var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        using var cancel = new CancellationTokenSource();
        try
        {
            int exitCode = await Program.RunAsync(args, console, error, cancel.Token).WaitAsync(Timeout);
            return new CliProcess.Result(exitCode, output.ToString(), error.ToString());
        }
        catch (TimeoutException)
        {
            await cancel.CancelAsync();
            throw new TimeoutException($"accel {string.Join(' ', args)} did not finish within {Timeout}");
        }
    }
}
