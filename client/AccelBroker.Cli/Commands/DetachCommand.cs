using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
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
            using var broker = new BrokerConnection(CommonOptions.RequireBroker(parse));
            DetachResponse response = await broker.Client.DetachAsync(
                new DetachRequest { Host = parse.GetValue(host)!, Ordinal = parse.GetValue(ordinal) },
                deadline: BrokerConnection.Deadline,
                cancellationToken: cancellationToken);
            Console.Out.WriteLine($"detached {response.Accelerator.Id} ({response.Accelerator.SliceType}) from {response.Accelerator.Host} ordinal {response.Accelerator.Ordinal}");
            return 0;
        });
        return command;
    }
}
