using System.Security.Cryptography;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Security;
using AccelBroker.Hosting.Tokens;
using AccelBroker.Tests.Broker;
using AccelBroker.Tests.Logging;
using AccelBroker.Tests.Tokens;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AccelBroker.Broker.Tests.Security;

/// <summary>
/// The suite-wide scan recognises every kind of secret the product issues, as the product makes them (so a change of
/// format cannot quietly blind it), and does not flag what may be logged: a key's public id, its name.
/// </summary>
public sealed class SecretScanTests
{
    // Made inside the test, by kind: a secret as theory data would be printed in the test's name.
    private static string Make(string kind)
    {
        using var issuer = new TestTokenIssuer();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return kind switch
        {
            "api key" => SecretCodec.Create(ApiKeyBook.KeyPrefix).Secret,
            "host credential" => SecretCodec.Create(ApiKeyBook.HostPrefix).Secret,
            "enrolment token" => PrefixedSecret.Create(PrefixedSecret.EnrollmentPrefix).Secret,
            "agent credential" => PrefixedSecret.Create(PrefixedSecret.AgentCredentialPrefix).Secret,
            "slice token" => issuer.Mint(AccessScope.Slice, "agent-1", "slice-1"),
            "control token" => issuer.Mint(AccessScope.Control, "agent-1"),
            "private key" => key.ExportPkcs8PrivateKeyPem(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    [Theory]
    [InlineData("api key")]
    [InlineData("host credential")]
    [InlineData("enrolment token")]
    [InlineData("agent credential")]
    [InlineData("slice token")]
    [InlineData("control token")]
    [InlineData("private key")]
    public void ASecretInALogLineIsFoundWithoutBeingQuoted(string kind)
    {
        string secret = Make(kind);
        var scan = new SecretScan();

        scan.Inspect("test", $"refused the call from 127.0.0.1: bearer {secret} (expired)");

        string violation = Assert.Single(scan.Violations);
        Assert.DoesNotContain(secret, violation, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[^12..], violation, StringComparison.Ordinal);
    }

    [Fact]
    public void PublicIdsNamesAndOrdinaryLinesAreNotFlagged()
    {
        var scan = new SecretScan();
        (string id, _) = SecretCodec.Create(ApiKeyBook.KeyPrefix);

        scan.Inspect("test", $"API key abk_{id} (ci-admin, operator) created by admin from 127.0.0.1:50122");
        scan.Inspect("test", "slice acc-50cf30590c1148fcb54764456a00a465 moved to agent-2 (epoch 2)");
        scan.Inspect("test", "model sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 loaded");

        Assert.Empty(scan.Violations);
        Assert.Equal(3, scan.LinesInspected);
    }

    [Fact]
    public void ARegisteredSecretWithoutAKnownShapeIsFound()
    {
        var scan = new SecretScan();
        scan.Register("correct-horse-battery-staple");

        scan.Inspect("test", "password was correct-horse-battery-staple");

        Assert.Single(scan.Violations);
    }

    [Fact]
    public void TheRecordingProviderFeedsTheSuiteScan()
    {
        long before = SecretScan.Suite.LinesInspected;
        using var provider = new RecordingLoggerProvider();

        provider.CreateLogger("test").LogInformation("an ordinary line");

        Assert.True(SecretScan.Suite.LinesInspected > before);
    }
}
