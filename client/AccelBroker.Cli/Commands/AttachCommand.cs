using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel attach</c>: places a slice for a host and prints its ordinal and id.</summary>
internal static class AttachCommand
{
    public static Command Create()
    {
        Option<string> host = CommonOptions.Host();
        Option<string> type = new("--type") { Description = "Slice type, e.g. eia2.medium", Required = true };
        Option<string?> hostType = new("--host-type") { Description = "Instance type of the client host, e.g. c5.large" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("attach", "Attach an accelerator slice to a client host") { host, type, hostType, json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            Accelerator a = await fleet.AttachAsync(parse.GetValue(host)!, parse.GetValue(type)!, parse.GetValue(hostType), cancellationToken);
            if (parse.GetValue(json))
            {
                CliJson.Print(AcceleratorJson.From(a));
            }
            else
            {
                Console.Out.WriteLine($"attached {a.SliceType} to {a.Host} as ordinal {a.Ordinal} (eia:{a.Ordinal}): id {a.Id}, agent {a.AgentId} at {a.AgentAddress}, device {Formatting.Device(a.Device)}");
            }

            return 0;
        });
        return command;
    }
}
