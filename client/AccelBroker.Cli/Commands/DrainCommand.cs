using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel drain AGENT</c> and <c>accel uncordon AGENT</c>: planned maintenance of one agent.</summary>
internal static class DrainCommand
{
    public static Command Drain()
    {
        Argument<string> id = new("AGENT") { Description = "The agent's id (see accel describe-agents)" };
        var command = new Command("drain", "Stop placing slices on an agent and move its slices to other agents, one at a time, while it serves") { id };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            DrainAgentResponse drained = await fleet.DrainAgentAsync(parse.GetValue(id)!, cancellationToken);
            Console.Out.WriteLine($"drained {drained.Agent.AgentId}: {drained.SlicesMoved} slice(s) moved; it takes no new slices until 'accel uncordon {drained.Agent.AgentId}'");
            foreach (string stranded in drained.SlicesStranded)
            {
                Console.Out.WriteLine($"  still on it (no other agent has room): {stranded}");
            }

            // Non-zero when the agent still holds slices: a script must not take the machine down then.
            return drained.SlicesStranded.Count == 0 ? 0 : 3;
        });
        return command;
    }

    public static Command Uncordon()
    {
        Argument<string> id = new("AGENT") { Description = "The agent's id (see accel describe-agents)" };
        var command = new Command("uncordon", "Let a drained agent take new slices again") { id };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            AgentDescription agent = await fleet.UncordonAgentAsync(parse.GetValue(id)!, cancellationToken);
            Console.Out.WriteLine($"uncordoned {agent.AgentId}: it takes new slices again");
            return 0;
        });
        return command;
    }
}
