using AccelBroker.Broker;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Broker;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace AccelBroker.Tests.Security;

/// <summary>Keys kept across restarts, the first admin key, and the refusal to serve plaintext beyond loopback.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ApiKeyPersistenceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("accel-keys-").FullName;

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);

    [Fact]
    public async Task KeysSurviveARestartInAnOwnerOnlyDatabaseThatHoldsNoSecret()
    {
        string secret;
        await using (BrokerTestHost broker = await BrokerTestHost.StartAsync(output, new BrokerOptions { DataDir = _dataDir }))
        {
            secret = (await broker.Client.CreateApiKeyAsync(new CreateApiKeyRequest { Name = "ci", Role = ApiKeyRole.Operator })).Secret;
        }

        string file = Path.Combine(_dataDir, "broker.db");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        string text = System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file));
        Assert.Contains("ci", text, StringComparison.Ordinal);
        Assert.DoesNotContain(secret.Split('_', 3)[2], text, StringComparison.Ordinal);

        await using (BrokerTestHost restarted = await BrokerTestHost.StartAsync(output, new BrokerOptions { DataDir = _dataDir }))
        {
            Assert.NotEmpty((await restarted.ClientWith(secret).ListSliceTypesAsync(new ListSliceTypesRequest())).SliceTypes);
        }
    }

    [Fact]
    public async Task TheAdminKeyFileGetsAWorkingAdminKeyOnceAndIsNotReplacedLater()
    {
        string keyFile = Path.Combine(_dataDir, "admin.key");
        var options = new BrokerOptions { DataDir = Path.Combine(_dataDir, "state"), AdminKeyFile = keyFile };
        string admin;
        await using (BrokerTestHost first = await BrokerTestHost.StartAsync(output, options, createAdminKey: false))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            admin = (await File.ReadAllTextAsync(keyFile)).Trim();
            Assert.Matches("^abk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", admin);
            ApiKeyInfo key = Assert.Single((await first.ClientWith(admin).ListApiKeysAsync(new ListApiKeysRequest())).Keys);
            Assert.Equal(ApiKeyRole.Admin, key.Role);
        }

        await using (BrokerTestHost second = await BrokerTestHost.StartAsync(output, options, createAdminKey: false))
        {
            // An admin key exists: the file is left alone and the key in it still works.
            Assert.Equal(admin, (await File.ReadAllTextAsync(keyFile)).Trim());
            Assert.Single((await second.ClientWith(admin).ListApiKeysAsync(new ListApiKeysRequest())).Keys);
        }
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://10.1.2.3:5050")]
    [InlineData("http://broker.internal:5050")]
    public void PlaintextBeyondLoopbackRefusesToStartAndNamesTheFlags(string listen)
    {
        BrokerConfigurationException refused = Assert.Throws<BrokerConfigurationException>(() => BrokerHost.Build(new BrokerOptions { Listen = listen }));
        Assert.Contains("--tls-cert", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--insecure", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InsecureAllowsPlaintextBeyondLoopback()
    {
        // Built, not started: the test binds nothing beyond loopback.
        Microsoft.AspNetCore.Builder.WebApplication app = BrokerHost.Build(new BrokerOptions { Listen = "http://10.1.2.3:5050", Insecure = true });
        await app.DisposeAsync();
    }
}
