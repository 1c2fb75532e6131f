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
        Option<bool> newCredential = new("--new-host-credential") { Description = "Issue the host a new credential, revoking its old one" };
        Option<string[]> allowModel = AllowedModelOptions.Hashes("--allow-model");
        Option<string[]> allowModelFile = AllowedModelOptions.Files("--allow-model-file");
        Option<bool> json = CommonOptions.Json();
        var command = new Command("attach", "Attach an accelerator slice to a client host")
        {
            host, type, hostType, newCredential, allowModel, allowModelFile, json,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            var request = new AttachRequest { Host = parse.GetValue(host)!, SliceType = parse.GetValue(type)!, HostType = parse.GetValue(hostType) ?? "", NewHostCredential = parse.GetValue(newCredential) };
            // Without either option the accelerator may load any model (change it later with allow-models).
            List<string> allowed = await AllowedModelOptions.ReadAsync(parse, allowModel, allowModelFile, cancellationToken);
            if (allowed.Count > 0)
            {
                request.Allowlist = new ModelAllowlist();
                request.Allowlist.Sha256.AddRange(allowed);
            }

            using FleetClient fleet = CommonOptions.OpenFleet(parse);
            AttachResponse response = await fleet.AttachAsync(request, cancellationToken);
            Accelerator a = response.Accelerator;
            string? credential = response.HostCredential is { Length: > 0 } c ? c : null;
            if (parse.GetValue(json))
            {
                // The accelerator's usual shape, plus the credential when this attach issued one.
                System.Text.Json.Nodes.JsonObject output = CliJson.ToObject(AcceleratorJson.From(a));
                if (credential is not null)
                {
                    output["host_credential"] = credential;
                    output["host_credential_id"] = response.HostCredentialId;
                }

                CliJson.Print(output);
            }
            else
            {
                Console.Out.WriteLine($"attached {a.SliceType} to {a.Host} as ordinal {a.Ordinal} (eia:{a.Ordinal}): id {a.Id}, agent {a.AgentId} at {a.AgentAddress}, device {Formatting.Device(a.Device)}");
                if (a.Allowlist is { } allowlist)
                {
                    Console.Out.WriteLine($"it may load only {allowlist.Sha256.Count} allowed model(s)");
                }

                if (credential is not null)
                {
                    // Shown once: the broker keeps only its hash.
                    Console.Out.WriteLine($"host credential for {a.Host} (shown once; set {AcceleratorSessionOptions.HostCredentialVariable} on the host): {credential}");
                }
            }

            return 0;
        });
        return command;
    }
}
