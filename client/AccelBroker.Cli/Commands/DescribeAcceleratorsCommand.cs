using System.CommandLine;
using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel describe-accelerators</c>: a host's accelerators, in EI's JSON shape with --json.</summary>
internal static class DescribeAcceleratorsCommand
{
    public static string ClientVersion { get; } = typeof(DescribeAcceleratorsCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static Command Create()
    {
        Option<string> host = CommonOptions.Host();
        Option<bool> json = CommonOptions.Json();
        var command = new Command("describe-accelerators", "Describe the accelerators attached to a host") { host, json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            DescribeAcceleratorsResponse response = await fleet.DescribeAcceleratorsAsync(parse.GetValue(host)!, cancellationToken);
            if (parse.GetValue(json))
            {
                CliJson.Print(new
                {
                    client_version = ClientVersion,
                    time = Formatting.CTime(response.Time?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow),
                    attached_accelerators = response.Accelerators.Count,
                    devices = response.Accelerators.Select(AcceleratorJson.From),
                });
                return 0;
            }

            Console.Out.WriteLine($"{response.Accelerators.Count} accelerator(s) attached to {response.Host}");
            var table = new Table().AddColumns("ordinal", "type", "id", "status", "state", "epoch", "agent", "device", "memory", "models", "share", "allowed");
            foreach (Accelerator a in response.Accelerators)
            {
                table.AddRow(
                    a.Ordinal.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(a.SliceType),
                    Markup.Escape(a.Id),
                    ContractWords.Health(a.Health),
                    Markup.Escape(StatusText.Accelerator(a)),
                    a.Epoch.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(a.AgentId),
                    Formatting.Device(a.Device),
                    $"{Formatting.Bytes(a.MemoryChargedBytes)} / {Formatting.Bytes(a.MemoryBytes)}",
                    a.ModelsResident.ToString(CultureInfo.InvariantCulture),
                    Formatting.Share(a.ComputeShare),
                    a.Allowlist is { } allowed ? allowed.Sha256.Count.ToString(CultureInfo.InvariantCulture) : "any");
            }

            AnsiConsole.Write(table);
            Console.Out.WriteLine("state: ready, or recovering/impaired with the reason; epoch: one more each time it moved to another agent; memory: charged to resident models / the slice's budget, and models: resident, as of the agent's last heartbeat; allowed: how many models the allowlist holds, or any");
            return 0;
        });
        return command;
    }
}
