using System.CommandLine;
using AccelBroker.Cli.Commands;
using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli;

/// <summary>Entry point of the <c>accel</c> operator tool.</summary>
public static class Program
{
    /// <summary>Parses the verb and runs it; returns the process exit code.</summary>
    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("accel: attach, describe and use AccelBroker accelerators.");
        root.Options.Add(CommonOptions.Broker);
        root.Subcommands.Add(SliceTypesCommand.Create());
        root.Subcommands.Add(PricesCommand.Create());
        root.Subcommands.Add(AttachCommand.Create());
        root.Subcommands.Add(DetachCommand.Create());
        root.Subcommands.Add(DescribeAcceleratorsCommand.Create());
        root.Subcommands.Add(DescribeAgentsCommand.Create());
        root.Subcommands.Add(UsageCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(MaxModelsCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(CompareCommand.Create());
        // Ctrl-C cancels a verb and waits for it: max-models finishes the copy being loaded and unloads its copies,
        // which takes longer than the default 2 s.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });
    }
}
