using System.Security.Cryptography;
using System.Text.Json;
using AccelBroker.Broker;
using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Internal;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Storage;
using AccelBroker.Broker.Tokens;
using AccelBroker.Broker.Usage;
using AccelBroker.Tests.Broker;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AccelBroker.Tests.Storage;

/// <summary>The JSON files of brokers before broker.db: imported once, whole, in the schema's transaction, then renamed.</summary>
public sealed class LegacyImportTests : IDisposable
{
    private static readonly DateTimeOffset s_time = new(2025, 6, 1, 12, 0, 0, TimeSpan.FromHours(-4));

    private static readonly string[] s_files =
        ["attachments.json", "api-keys.json", "enrollment-tokens.json", "agent-credentials.json", "signing-keys.json", "usage.json"];

    private readonly string _directory = Directory.CreateTempSubdirectory("accelbroker-import-").FullName;
    private readonly RecordingLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly ECDsa _signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public LegacyImportTests()
    {
        _loggers = LoggerFactory.Create(logging => logging.AddProvider(_logs));
    }

    public void Dispose()
    {
        _signingKey.Dispose();
        _loggers.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void EveryOldFileIsImportedIntactRenamedAndLoggedAndASecondStartImportsNothing()
    {
        WriteAllOldFiles();

        using (SqliteBrokerDatabase database = Open())
        {
            AttachmentRecord attachment = Assert.Single(new SqliteAttachmentStore(database).Load());
            Assert.Equal(Attachment() with { Allowlist = null }, attachment with { Allowlist = null });
            Assert.Equal(5, attachment.Epoch);
            Assert.Equal(Attachment().Allowlist, attachment.Allowlist);
            Assert.Equal([ApiKey()], new SqliteApiKeyStore(database).Load());
            Assert.Equal([Token()], new SqliteEnrollmentTokenStore(database).Load());
            Assert.Equal([Credential()], new SqliteAgentCredentialStore(database).Load());
            SigningKey key = Assert.Single(new SqliteSigningKeyStore(database).Load());
            Assert.Equal(("0a1b2c3d4e5f6a7b", s_time, (DateTimeOffset?)null), (key.Kid, key.CreatedAt, key.NotAfter));
            Assert.Equal(_signingKey.ExportSubjectPublicKeyInfo(), key.PublicKeyDer());
            key.Key.Dispose();
            UsageDocument usage = Assert.IsType<UsageDocument>(new SqliteUsageStore(database).Read());
            Assert.Equal(UsageJson.Of(Usage()), UsageJson.Of(usage));
        }

        foreach (string file in s_files)
        {
            Assert.False(File.Exists(Path.Combine(_directory, file)), file);
            Assert.True(File.Exists(Path.Combine(_directory, file + ".imported")), file);
        }

        string[] imported = [.. _logs.Messages.Where(m => m.Name == "LegacyFileImported").Select(m => m.Message)];
        Assert.Equal(s_files.Length, imported.Length);
        Assert.Contains(imported, m => m.StartsWith($"Imported 1 attachments from {Path.Combine(_directory, "attachments.json")}", StringComparison.Ordinal));

        // An old file that turns up again later is not read: the import happens with the schema, once.
        File.Copy(Path.Combine(_directory, "attachments.json.imported"), Path.Combine(_directory, "attachments.json"));
        using (SqliteBrokerDatabase database = Open())
        {
            new SqliteAttachmentStore(database).Save([]);
        }

        using (SqliteBrokerDatabase database = Open())
        {
            Assert.Empty(new SqliteAttachmentStore(database).Load());
        }

        Assert.Equal(s_files.Length, _logs.Messages.Count(m => m.Name == "LegacyFileImported"));
        Assert.True(File.Exists(Path.Combine(_directory, "attachments.json")));
    }

    [Theory]
    [InlineData("attachments.json")]
    [InlineData("api-keys.json")]
    [InlineData("enrollment-tokens.json")]
    [InlineData("agent-credentials.json")]
    [InlineData("signing-keys.json")]
    public void AnUnreadableOldFileStopsTheStartAndNothingIsImportedUntilItIsFixed(string broken)
    {
        WriteAllOldFiles();
        string good = File.ReadAllText(Path.Combine(_directory, broken));
        File.WriteAllText(Path.Combine(_directory, broken), "{\"version\": 1, ");

        var ex = Assert.Throws<BrokerConfigurationException>(Open);

        Assert.Contains($"'{Path.Combine(_directory, broken)}' is not valid", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_directory, "*.imported"));

        // Fixed, the next start imports everything: the failed one left no half-made store behind.
        File.WriteAllText(Path.Combine(_directory, broken), good);
        using SqliteBrokerDatabase database = Open();
        Assert.Single(new SqliteAttachmentStore(database).Load());
        Assert.Single(new SqliteApiKeyStore(database).Load());
        Assert.Equal(s_files.Length, Directory.GetFiles(_directory, "*.imported").Length);
    }

    private SqliteBrokerDatabase Open() => TestDatabase.Open(_directory, _loggers.CreateLogger("store"));

    private void WriteAllOldFiles()
    {
        Write("attachments.json", new AttachmentsDocument(1, [Attachment()]), BrokerJsonContext.Default.AttachmentsDocument);
        Write("api-keys.json", new ApiKeysDocument(1, [ApiKey()]), BrokerJsonContext.Default.ApiKeysDocument);
        Write("enrollment-tokens.json", new EnrollmentTokensDocument(1, [Token()]), BrokerJsonContext.Default.EnrollmentTokensDocument);
        Write("agent-credentials.json", new AgentCredentialsDocument(1, [Credential()]), BrokerJsonContext.Default.AgentCredentialsDocument);
        Write("signing-keys.json",
            new SigningKeysDocument(1, [new SigningKeyEntry("0a1b2c3d4e5f6a7b", _signingKey.ExportPkcs8PrivateKeyPem(), s_time, s_time.AddDays(1), null)]),
            BrokerJsonContext.Default.SigningKeysDocument);
        Write("usage.json", Usage(), BrokerJsonContext.Default.UsageDocument);
    }

    private void Write<T>(string name, T document, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        File.WriteAllText(Path.Combine(_directory, name), JsonSerializer.Serialize(document, type));

    private static AttachmentRecord Attachment() =>
        new("acc-1", "host-a", 2, "eia2.large", "m5.large", "agent-a", "http://10.0.0.1:7001", 4L << 30, 0.25, s_time, [new string('c', 64)]) { Epoch = 5 };

    private static ApiKeyRecord ApiKey() => new("0123456789abcdef", "ci", AccessRole.Operator, null, "hash", s_time, "admin", s_time.AddHours(1));

    private static EnrollmentTokenRecord Token() => new("t1", "hash-t", "gpu-1", s_time, s_time.AddHours(1), Reusable: true, UsedAt: s_time.AddMinutes(3));

    private static AgentCredentialRecord Credential() => new("c1", "hash-c", "agent-a", "gpu-1", s_time, RevokedAt: null, LastSeen: s_time.AddMinutes(4));

    private static UsageDocument Usage() => UsageJson.Sample();
}
