using System.CommandLine;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Client;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel allow-models</c>: replaces, or clears, the models a host's accelerator may load.</summary>
internal static class AllowModelsCommand
{
    public static Command Create()
    {
        Option<string> host = CommonOptions.Host();
        Option<int> ordinal = new("--ordinal") { Description = "Accelerator ordinal on the host (0 for eia:0)", DefaultValueFactory = _ => 0 };
        Option<string[]> models = AllowedModelOptions.Hashes("--model");
        Option<string[]> files = AllowedModelOptions.Files("--model-file");
        Option<bool> none = new("--none") { Description = "Allow no model at all" };
        Option<bool> clear = new("--clear") { Description = "Remove the allowlist: any model may be loaded" };
        Option<bool> json = CommonOptions.Json();
        var command = new Command(
            "allow-models",
            "Set the models a host's accelerator may load (models loaded before and not on the new list are unloaded), or clear the list")
        {
            host, ordinal, models, files, none, clear, json,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            List<string> hashes = await AllowedModelOptions.ReadAsync(parse, models, files, cancellationToken);
            bool clearing = parse.GetValue(clear);
            bool allowNone = parse.GetValue(none);
            if ((hashes.Count > 0 ? 1 : 0) + (clearing ? 1 : 0) + (allowNone ? 1 : 0) != 1)
            {
                throw new CliUsageException("give --model or --model-file (repeatable), or --none, or --clear: exactly one of them");
            }

            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            Accelerator a = await fleet.SetAllowedModelsAsync(parse.GetValue(host)!, parse.GetValue(ordinal), clearing ? null : hashes, cancellationToken);
            if (parse.GetValue(json))
            {
                CliJson.Print(AcceleratorJson.From(a));
            }
            else if (a.Allowlist is null)
            {
                Console.Out.WriteLine($"{a.Host} ordinal {a.Ordinal} ({a.Id}) may load any model");
            }
            else
            {
                Console.Out.WriteLine($"{a.Host} ordinal {a.Ordinal} ({a.Id}) may load {a.Allowlist.Sha256.Count} model(s):");
                foreach (string sha256 in a.Allowlist.Sha256)
                {
                    Console.Out.WriteLine($"  {sha256}");
                }
            }

            return 0;
        });
        return command;
    }
}
