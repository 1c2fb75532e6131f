using System.Net;
using System.Security.Cryptography.X509Certificates;
using AccelBroker.Tests.Infrastructure;
using Xunit;

namespace AccelBroker.Tests.Cli;

/// <summary><c>accel certs</c>: the CA and the certificates it issues are real X.509 that chain, with what was asked for.</summary>
public sealed class CertsCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accel-certs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task IssuedServerCertificateChainsToTheCaWithItsNamesAndServerAuth()
    {
        string ca = Path.Combine(_dir, "ca");
        CliProcess.Result created = await CliInProcess.RunAsync("certs", "create-ca", "--out", ca, "--name", "Test Fleet CA");
        Assert.True(created.ExitCode == 0, created.StdErr);
        CliProcess.Result issued = await CliInProcess.RunAsync(
            "certs", "issue", "--ca", ca, "--name", "broker-1", "--dns", "broker.example", "--dns", "localhost", "--ip", "127.0.0.1", "--ip", "::1", "--out", _dir);
        Assert.True(issued.ExitCode == 0, issued.StdErr);

        using X509Certificate2 root = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(ca, "ca.crt"));
        using X509Certificate2 server = X509Certificate2.CreateFromPemFile(Path.Combine(_dir, "broker-1.crt"), Path.Combine(_dir, "broker-1.key"));
        Assert.True(server.HasPrivateKey);
        Assert.Equal("CN=broker-1", server.Subject);
        Assert.True(root.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.False(server.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);

        var san = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["broker.example", "localhost"], san.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], san.EnumerateIPAddresses());
        var eku = server.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single();
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value));
        Assert.True(server.MatchesHostname("broker.example"));

        Assert.True(Chains(server, root, out string status), status);
        using (System.Security.Cryptography.ECDsa? key = server.GetECDsaPublicKey())
        {
            Assert.Equal(256, key?.KeySize);
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "broker-1.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(ca, "ca.key")));
        }
    }

    [Fact]
    public async Task ClientCertificateHasClientAuthAndDoesNotChainToAnotherCa()
    {
        string ca = Path.Combine(_dir, "ca");
        string other = Path.Combine(_dir, "other");
        Assert.Equal(0, (await CliInProcess.RunAsync("certs", "create-ca", "--out", ca)).ExitCode);
        Assert.Equal(0, (await CliInProcess.RunAsync("certs", "create-ca", "--out", other)).ExitCode);
        CliProcess.Result issued = await CliInProcess.RunAsync("certs", "issue", "--ca", ca, "--name", "app-1", "--client", "--out", _dir);
        Assert.True(issued.ExitCode == 0, issued.StdErr);

        using X509Certificate2 client = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_dir, "app-1.crt"));
        var eku = client.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single();
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value));
        Assert.Equal(["app-1"], client.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        using X509Certificate2 right = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(ca, "ca.crt"));
        using X509Certificate2 wrong = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(other, "ca.crt"));
        Assert.True(Chains(client, right, out string status), status);
        Assert.False(Chains(client, wrong, out _));
    }

    [Theory]
    [InlineData("--name is required", "certs", "issue", "--ca", "{ca}", "--ip", "127.0.0.1", "--out", "{out}")]
    [InlineData("--ip '10.0.0.300' is not an IPv4 or IPv6 address", "certs", "issue", "--ca", "{ca}", "--name", "agent-1", "--ip", "10.0.0.300", "--out", "{out}")]
    [InlineData("--dns 'not a host' is not a DNS name", "certs", "issue", "--ca", "{ca}", "--name", "agent-1", "--dns", "not a host", "--out", "{out}")]
    [InlineData("--out is required", "certs", "issue", "--ca", "{ca}", "--name", "agent-1")]
    [InlineData("--days 0 is not between 1 and 36500", "certs", "issue", "--ca", "{ca}", "--name", "agent-1", "--days", "0", "--out", "{out}")]
    [InlineData("--out is required", "certs", "create-ca")]
    public async Task BadInputExitsTwoWithAClearErrorAndWritesNothing(string message, params string[] args)
    {
        string ca = Path.Combine(_dir, "ca");
        Assert.Equal(0, (await CliInProcess.RunAsync("certs", "create-ca", "--out", ca)).ExitCode);
        string output = Path.Combine(_dir, "out");
        string[] resolved = [.. args.Select(a => a.Replace("{ca}", ca).Replace("{out}", output))];

        CliProcess.Result result = await CliInProcess.RunAsync(resolved);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"accel: error: {message}", result.StdErr.Trim());
        Assert.False(Directory.Exists(output));
        Assert.Equal(["ca.crt", "ca.key"], Directory.GetFiles(ca).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task AnExistingCaIsNotOverwritten()
    {
        string ca = Path.Combine(_dir, "ca");
        Assert.Equal(0, (await CliInProcess.RunAsync("certs", "create-ca", "--out", ca)).ExitCode);
        string before = File.ReadAllText(Path.Combine(ca, "ca.key"));

        CliProcess.Result again = await CliInProcess.RunAsync("certs", "create-ca", "--out", ca);

        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.StdErr);
        Assert.Equal(before, File.ReadAllText(Path.Combine(ca, "ca.key")));
    }

    internal static bool Chains(X509Certificate2 certificate, X509Certificate2 root, out string status)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        bool built = chain.Build(certificate);
        status = string.Join("; ", chain.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation}"));
        return built;
    }
}
