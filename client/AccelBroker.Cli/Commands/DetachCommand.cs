using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel detach</c>: frees a host's accelerator.</summary>
internal static class DetachCommand
{
    public static Command Create()
    {
        Option<string> host = CommonOptions.Host();
        Option<int> ordinal = CommonOptions.Ordinal();
        var command = new Command("detach", "Detach a host's accelerator by ordinal") { host, ordinal };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            Accelerator a = await fleet.DetachAsync(parse.GetValue(host)!, parse.GetValue(ordinal), cancellationToken);
            Console.Out.WriteLine($"detached {a.Id} ({a.SliceType}) from {a.Host} ordinal {a.Ordinal}");
            return 0;
        });
        return command;
    }
}
