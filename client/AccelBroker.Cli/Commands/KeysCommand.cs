using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;
using Spectre.Console;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel keys create|list|revoke</c>: the broker's operator API keys (admin role).</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var command = new Command("keys", "Manage the broker's API keys (needs an admin key)");
        command.Subcommands.Add(CreateKey());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Revoke());
        return command;
    }

    private static Command CreateKey()
    {
        Option<string> name = new("--name") { Description = "Who or what will hold the key", Required = true };
        Option<string> role = new("--role") { Description = "viewer (describe, usage), operator (also attach, detach, bench) or admin (also keys)", Required = true };
        role.AcceptOnlyFromAmong("viewer", "operator", "admin");
        Option<string?> output = new("--output") { Description = "Write the key to this file (mode 0600) instead of printing it" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("create", "Create an API key; it is shown once") { name, role, output, json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string? file = parse.GetValue(output);
            if (file is not null && File.Exists(file))
            {
                // Checked before the key exists: a key that cannot be written would be live yet never seen.
                throw new CliException($"--output '{file}' exists; a key file is never overwritten");
            }

            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            ApiKeyRole wanted = parse.GetValue(role) switch
            {
                "viewer" => ApiKeyRole.Viewer,
                "operator" => ApiKeyRole.Operator,
                _ => ApiKeyRole.Admin,
            };
            CreateApiKeyResponse created = await fleet.CreateApiKeyAsync(parse.GetValue(name)!, wanted, cancellationToken);
            if (file is not null)
            {
                SecretFile.Write(file, created.Secret);
            }

            if (parse.GetValue(json))
            {
                CliJson.Print(new { key = KeyJson(created.Key), secret = file is null ? created.Secret : null, written_to = file });
            }
            else
            {
                Console.Out.WriteLine(file is null
                    ? $"created {Role(created.Key.Role)} key '{created.Key.Name}' ({created.Key.Id}); shown once, keep it secret:{Environment.NewLine}{created.Secret}"
                    : $"created {Role(created.Key.Role)} key '{created.Key.Name}' ({created.Key.Id}) in {Path.GetFullPath(file)}");
            }

            return 0;
        });
        return command;
    }

    private static Command List()
    {
        Option<bool> all = new("--all") { Description = "Include revoked keys" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command("list", "List API keys and host credentials (never their secrets)") { all, json };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            IReadOnlyList<ApiKeyInfo> keys = await fleet.ListApiKeysAsync(parse.GetValue(all), cancellationToken);
            if (parse.GetValue(json))
            {
                CliJson.Print(new { keys = keys.Select(KeyJson) });
                return 0;
            }

            var table = new Table().AddColumns("id", "name", "role", "host", "created", "created by", "revoked");
            foreach (ApiKeyInfo k in keys)
            {
                table.AddRow(
                    k.Id,
                    Markup.Escape(k.Name),
                    Role(k.Role),
                    k.Host.Length > 0 ? Markup.Escape(k.Host) : "-",
                    $"{k.CreatedAt.ToDateTimeOffset():u}",
                    k.CreatedBy.Length > 0 ? Markup.Escape(k.CreatedBy) : "-",
                    k.RevokedAt is null ? "-" : $"{k.RevokedAt.ToDateTimeOffset():u}");
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Revoke()
    {
        Argument<string> id = new("id") { Description = "The key's id, as accel keys list shows it" };
        var command = new Command("revoke", "Revoke an API key or host credential; it stops working at once") { id };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            ApiKeyInfo revoked = await fleet.RevokeApiKeyAsync(parse.GetValue(id)!, cancellationToken);
            Console.Out.WriteLine($"revoked {Role(revoked.Role)} key '{revoked.Name}' ({revoked.Id})");
            return 0;
        });
        return command;
    }

    private static object KeyJson(ApiKeyInfo k) => new
    {
        id = k.Id,
        name = k.Name,
        role = Role(k.Role),
        host = k.Host.Length > 0 ? k.Host : null,
        created_at = k.CreatedAt?.ToDateTimeOffset(),
        created_by = k.CreatedBy.Length > 0 ? k.CreatedBy : null,
        revoked_at = k.RevokedAt?.ToDateTimeOffset(),
    };

    private static string Role(ApiKeyRole role) => role switch
    {
        ApiKeyRole.Viewer => "viewer",
        ApiKeyRole.Operator => "operator",
        ApiKeyRole.Admin => "admin",
        ApiKeyRole.Host => "host",
        _ => "unknown",
    };
}
