using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel describe-agents</c>: the fleet, with capacity and slices, and why an agent is not healthy.</summary>
internal static class DescribeAgentsCommand
{
    public static Command Create()
    {
        Option<bool> json = CommonOptions.Json();
        var command = new Command("describe-agents", "Describe the accelerator agents known to the broker") { json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            IReadOnlyList<AgentDescription> agents = await fleet.DescribeAgentsAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                CliJson.Print(new
                {
                    agents = agents.Select(a => new
                    {
                        id = a.AgentId,
                        address = a.Address,
                        status = ContractWords.Health(a.Health),
                        health_reason = a.HealthReason,
                        cordoned = a.Cordoned,
                        device = Formatting.Device(a.Device),
                        device_name = a.Device?.Name ?? "",
                        instance_type = a.InstanceType,
                        capacity = new { memory_mib = (a.Capacity?.MemoryBytes ?? 0) / Formatting.MiB, compute = a.Capacity?.Compute ?? 0 },
                        allocated = new { memory_mib = (a.Allocated?.MemoryBytes ?? 0) / Formatting.MiB, compute = a.Allocated?.Compute ?? 0 },
                        last_heartbeat = a.LastHeartbeat?.ToDateTimeOffset(),
                        metrics_address = a.MetricsAddress,
                        slices = a.Accelerators.Select(AcceleratorJson.From),
                    }),
                });
                return 0;
            }

            var table = new Table().AddColumns("agent", "address", "status", "device", "memory MiB (used/total)", "compute (used/total)", "slices", "metrics");
            foreach (AgentDescription a in agents)
            {
                table.AddRow(
                    Markup.Escape(a.AgentId),
                    Markup.Escape(a.Address),
                    Markup.Escape(StatusText.Agent(a)),
                    Markup.Escape($"{Formatting.Device(a.Device)} ({a.Device?.Name})"),
                    $"{Formatting.Mib(a.Allocated?.MemoryBytes ?? 0)}/{Formatting.Mib(a.Capacity?.MemoryBytes ?? 0)}",
                    $"{Formatting.Share(a.Allocated?.Compute ?? 0)}/{Formatting.Share(a.Capacity?.Compute ?? 0)}",
                    Markup.Escape(string.Join(", ", a.Accelerators.Select(s => $"{s.Host}:{s.Ordinal} {s.SliceType}"))),
                    a.MetricsAddress.Length > 0 ? Markup.Escape(a.MetricsAddress) : "-");
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
