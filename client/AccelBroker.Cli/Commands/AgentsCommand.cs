using System.CommandLine;
using System.Globalization;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel agents enroll|list|revoke</c>: who may join the fleet.</summary>
internal static class AgentsCommand
{
    public static Command Create()
    {
        var command = new Command("agents", "Enrol, list and revoke accelerator agents");
        command.Subcommands.Add(Enroll());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Revoke());
        return command;
    }

    /// <summary>Parses 90s, 30m, 12h or 7d.</summary>
    public static TimeSpan ParseDuration(string value)
    {
        if (value.Length >= 2 && long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 && n <= 100_000)
        {
            switch (value[^1])
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
            }
        }

        throw new CliUsageException($"--ttl '{value}' is not a duration such as 90s, 30m, 12h or 7d");
    }

    private static Command Enroll()
    {
        Option<string> name = new("--name") { Description = "Name of the agent the token is for", Required = true };
        Option<string?> ttl = new("--ttl") { Description = "How long the token may be used: 90s, 30m, 12h, 7d (default 1h, at most 30d)" };
        Option<bool> reusable = new("--reusable") { Description = "Enrol any number of agents until the token expires (default: exactly one)" };
        var command = new Command("enroll", "Create an enrolment token for a new agent (printed once, on stdout)") { name, ttl, reusable };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            TimeSpan? lifetime = parse.GetValue(ttl) is { } text ? ParseDuration(text) : null;
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            CreateEnrollmentResponse created = await fleet.CreateEnrollmentAsync(parse.GetValue(name)!, lifetime, parse.GetValue(reusable), cancellationToken);

            // The token alone on stdout, so it can go straight into a file; the rest on stderr.
            Console.Out.WriteLine(created.Token);
            Console.Error.WriteLine(
                $"token {created.TokenId} expires {created.ExpiresAt.ToDateTimeOffset():u}; give it to the agent with --enrollment-token-file (it is not shown again)");
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        Option<bool> json = CommonOptions.Json();
        var command = new Command("list", "List enrolled agents") { json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            IReadOnlyList<EnrolledAgent> agents = await fleet.ListEnrolledAgentsAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                CliJson.Print(new
                {
                    agents = agents.Select(a => new
                    {
                        id = a.AgentId,
                        name = a.Name,
                        credential_id = a.CredentialId,
                        created = a.CreatedAt?.ToDateTimeOffset(),
                        last_seen = a.LastSeen?.ToDateTimeOffset(),
                        revoked = a.RevokedAt?.ToDateTimeOffset(),
                    }),
                });
                return 0;
            }

            var table = new Table().AddColumns("agent", "name", "created", "last seen", "status");
            foreach (EnrolledAgent a in agents)
            {
                table.AddRow(
                    Markup.Escape(a.AgentId),
                    Markup.Escape(a.Name),
                    Time(a.CreatedAt),
                    Time(a.LastSeen),
                    a.RevokedAt is null ? "enrolled" : $"revoked {Time(a.RevokedAt)}");
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Revoke()
    {
        Argument<string> id = new("ID") { Description = "The agent's id (see accel agents list)" };
        var command = new Command("revoke", "Revoke an agent at once: it is refused from its next call and gets no new slice") { id };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            RevokeAgentResponse revoked = await fleet.RevokeAgentAsync(parse.GetValue(id)!, cancellationToken);
            Console.Out.WriteLine(
                $"revoked {revoked.Agent.AgentId} ({revoked.Agent.Name}); {revoked.SlicesMoved} slices moved to other agents, {revoked.SlicesStranded} found no room and show unhealthy");
            return 0;
        });
        return command;
    }

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? "-" : time.ToDateTimeOffset().ToString("u", CultureInfo.InvariantCulture);
}
