using System.CommandLine;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using AccelBroker.Cli.Certificates;
using AccelBroker.Cli.Infrastructure;

namespace AccelBroker.Cli.Commands;

/// <summary><c>accel certs create-ca|issue</c>: a private CA and the TLS certificates of a fleet's endpoints.</summary>
internal static class CertsCommand
{
    /// <summary>File name (without extension) of the CA in its folder: <c>ca.crt</c>, <c>ca.key</c>.</summary>
    public const string AuthorityFileName = "ca";

    public static Command Create()
    {
        var command = new Command("certs", "Make a private CA and TLS certificates (PEM) for brokers, agents and clients");
        command.Subcommands.Add(CreateAuthority());
        command.Subcommands.Add(Issue());
        return command;
    }

    private static Command CreateAuthority()
    {
        Option<string?> output = Output("Folder to write ca.crt and ca.key (mode 0600) to (required)");
        Option<string> name = new("--name") { Description = "Subject name of the CA", DefaultValueFactory = _ => "AccelBroker CA" };
        Option<int> days = Days(3650);
        var command = new Command("create-ca", "Create a private certificate authority") { output, name, days };
        command.SetGuardedAction((parse, _) =>
        {
            string directory = RequireOutput(parse, output);
            string subject = RequireText(parse.GetValue(name), "--name");
            int validDays = RequireDays(parse, days);
            PemFiles.ThrowIfExists(directory, AuthorityFileName);
            using X509Certificate2 ca = CertificateFactory.CreateAuthority(subject, validDays, TimeProvider.System.GetUtcNow());
            PemFiles.Write(directory, AuthorityFileName, ca);
            Console.Out.WriteLine($"created CA '{subject}' valid until {ca.NotAfter.ToUniversalTime():yyyy-MM-dd}: {PemFiles.CertificatePath(directory, AuthorityFileName)}, {PemFiles.KeyPath(directory, AuthorityFileName)}");
            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Issue()
    {
        Option<string?> ca = new("--ca") { Description = "Folder of the CA (ca.crt and ca.key) that signs the certificate (required)" };
        Option<string?> name = new("--name") { Description = "Subject name; also the file names NAME.crt and NAME.key (required)" };
        Option<string[]> dns = new("--dns") { Description = "DNS name the certificate is valid for (repeatable; default: NAME when no --ip)", AllowMultipleArgumentsPerToken = false };
        Option<string[]> ip = new("--ip") { Description = "IP address the certificate is valid for (repeatable)" };
        Option<bool> client = new("--client") { Description = "A client certificate (clientAuth) instead of a server one (serverAuth)" };
        Option<int> days = Days(365);
        Option<string?> output = Output("Folder to write NAME.crt and NAME.key (mode 0600) to (required)");
        var command = new Command("issue", "Issue a server or client certificate signed by the CA") { ca, name, dns, ip, client, days, output };
        command.SetGuardedAction((parse, _) =>
        {
            string authorityDirectory = RequireText(parse.GetValue(ca), "--ca");
            string subject = RequireText(parse.GetValue(name), "--name");
            if (subject.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || subject is "." or "..")
            {
                throw new CliUsageException($"--name '{subject}' cannot be a file name");
            }

            string[] dnsNames = parse.GetValue(dns) ?? [];
            foreach (string host in dnsNames)
            {
                if (Uri.CheckHostName(host) != UriHostNameType.Dns)
                {
                    throw new CliUsageException($"--dns '{host}' is not a DNS name");
                }
            }

            var addresses = new List<IPAddress>();
            foreach (string text in parse.GetValue(ip) ?? [])
            {
                addresses.Add(IPAddress.TryParse(text, out IPAddress? address) && text.Trim() == text
                    ? address
                    : throw new CliUsageException($"--ip '{text}' is not an IPv4 or IPv6 address"));
            }

            int validDays = RequireDays(parse, days);
            string directory = RequireOutput(parse, output);
            PemFiles.ThrowIfExists(directory, subject);
            using X509Certificate2 authority = PemFiles.Read(authorityDirectory, AuthorityFileName);
            using X509Certificate2 issued = CertificateFactory.Issue(authority, subject, dnsNames, addresses, parse.GetValue(client), validDays, TimeProvider.System.GetUtcNow());
            PemFiles.Write(directory, subject, issued);
            string kind = parse.GetValue(client) ? "client" : "server";
            Console.Out.WriteLine($"issued {kind} certificate '{subject}' signed by '{authority.GetNameInfo(X509NameType.SimpleName, forIssuer: false)}' valid until {issued.NotAfter.ToUniversalTime():yyyy-MM-dd}: {PemFiles.CertificatePath(directory, subject)}, {PemFiles.KeyPath(directory, subject)}");
            return Task.FromResult(0);
        });
        return command;
    }

    // Required options are checked by the verb, not the parser, so that a missing one exits 2 like a bad one.
    private static Option<string?> Output(string description) => new("--out") { Description = description };

    private static Option<int> Days(int defaultDays) => new("--days") { Description = $"Days the certificate is valid for (default {defaultDays})", DefaultValueFactory = _ => defaultDays };

    private static string RequireOutput(ParseResult parse, Option<string?> output) => RequireText(parse.GetValue(output), "--out");

    private static string RequireText(string? value, string flag) =>
        string.IsNullOrWhiteSpace(value) ? throw new CliUsageException($"{flag} is required") : value;

    private static int RequireDays(ParseResult parse, Option<int> days) =>
        parse.GetValue(days) is var n and > 0 and <= 36500 ? n : throw new CliUsageException($"--days {parse.GetValue(days)} is not between 1 and 36500");
}
