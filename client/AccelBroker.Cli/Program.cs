using System.CommandLine;
using AccelBroker.Cli.Commands;
using AccelBroker.Cli.Infrastructure;
using Spectre.Console;

namespace AccelBroker.Cli;

/// <summary>Entry point of the <c>accel</c> operator tool.</summary>
public static class Program
{
    // The verbs write to Console and AnsiConsole, which are process-wide: in-process runs take turns.
    private static readonly SemaphoreSlim InProcessTurn = new(1, 1);

    /// <summary>Parses the verb and runs it; returns the process exit code.</summary>
    public static Task<int> Main(string[] args) =>
        // Ctrl-C cancels a verb and waits for it: max-models finishes the copy being loaded and unloads its copies,
        // which takes longer than the default 2 s.
        CreateRoot().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });

    /// <summary>
    /// Runs a verb in this process as <see cref="Main"/> would, with its output on <paramref name="console"/> (tables,
    /// and every line the verbs write to standard output) and its errors on <paramref name="error"/>; for tests.
    /// </summary>
    internal static async Task<int> RunAsync(string[] args, IAnsiConsole console, TextWriter error, CancellationToken cancellationToken)
    {
        await InProcessTurn.WaitAsync(cancellationToken);
        TextWriter previousOut = Console.Out;
        TextWriter previousError = Console.Error;
        IAnsiConsole previousConsole = AnsiConsole.Console;
        TextWriter output = console.Profile.Out.Writer;
        try
        {
            Console.SetOut(output);
            Console.SetError(error);
            AnsiConsole.Console = console;
            // No ProcessTerminationTimeout: the host process's Ctrl-C is not the verb's to handle.
            return await CreateRoot().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
        }
        finally
        {
            AnsiConsole.Console = previousConsole;
            Console.SetError(previousError);
            Console.SetOut(previousOut);
            InProcessTurn.Release();
        }
    }

    private static RootCommand CreateRoot()
    {
        var root = new RootCommand("accel: attach, describe and use AccelBroker accelerators.");
        root.Options.Add(CommonOptions.Broker);
        root.Options.Add(CommonOptions.CaFile);
        root.Options.Add(CommonOptions.ApiKeyFile);
        root.Subcommands.Add(SliceTypesCommand.Create());
        root.Subcommands.Add(PricesCommand.Create());
        root.Subcommands.Add(AttachCommand.Create());
        root.Subcommands.Add(DetachCommand.Create());
        root.Subcommands.Add(AllowModelsCommand.Create());
        root.Subcommands.Add(DescribeAcceleratorsCommand.Create());
        root.Subcommands.Add(DescribeAgentsCommand.Create());
        root.Subcommands.Add(AgentsCommand.Create());
        root.Subcommands.Add(DrainCommand.Drain());
        root.Subcommands.Add(DrainCommand.Uncordon());
        root.Subcommands.Add(UsageCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(MaxModelsCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(CompareCommand.Create());
        root.Subcommands.Add(SweepCommand.Create());
        root.Subcommands.Add(LoadtestCommand.Create());
        root.Subcommands.Add(CertsCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        return root;
    }
}
