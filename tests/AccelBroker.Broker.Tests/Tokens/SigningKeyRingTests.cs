using AccelBroker.Broker;
using AccelBroker.Broker.Storage;
using AccelBroker.Broker.Tokens;
using AccelBroker.Tests.Storage;
using AccelBroker.Hosting.Tokens;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Tokens;

public sealed class SigningKeyRingTests : IDisposable
{
    private static readonly BrokerOptions s_options = new()
    {
        SliceTokenLifetime = TimeSpan.FromMinutes(10),
        SigningKeyRotation = TimeSpan.FromHours(24),
    };

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"accel-keys-{Guid.NewGuid():N}");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private readonly List<SqliteBrokerDatabase> _databases = [];

    public void Dispose()
    {
        _databases.ForEach(d => d.Dispose());
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void TheCurrentKeyIsAP256KeyWithARandomHexKid()
    {
        using var ring = new SigningKeyRing(new InMemorySigningKeyStore(), _time, s_options);
        using var other = new SigningKeyRing(new InMemorySigningKeyStore(), _time, s_options);

        SigningKey key = ring.Current;
        Assert.Equal(256, key.Key.KeySize);
        Assert.Matches("^[0-9a-f]{16}$", key.Kid);
        Assert.NotEqual(key.Kid, other.Current.Kid);
        Assert.Same(key, ring.Current);
        Assert.Equal([key.Kid], ring.PublicKeys().Select(k => k.Kid));
    }

    [Fact]
    public void ARotatedKeyStaysPublishedForTheOverlapAndNotAfter()
    {
        using var ring = new SigningKeyRing(new InMemorySigningKeyStore(), _time, s_options);
        string first = ring.Current.Kid;

        _time.Advance(TimeSpan.FromHours(24));
        string second = ring.Current.Kid;
        Assert.NotEqual(first, second);
        IReadOnlyList<TrustedKey> published = ring.PublicKeys();
        Assert.Equal([first, second], published.Select(k => k.Kid));
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(20), published[0].NotAfter);
        Assert.Null(published[1].NotAfter);

        _time.Advance(TimeSpan.FromMinutes(19));
        Assert.Contains(first, ring.PublicKeys().Select(k => k.Kid));

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal([second], ring.PublicKeys().Select(k => k.Kid));
    }

    [Fact]
    public void WithADataDirectoryARestartedBrokerKeepsItsKeysInAnOwnerOnlyDatabase()
    {
        string kid;
        byte[] publicKey;
        using (var ring = new SigningKeyRing(Store(), _time, s_options))
        {
            kid = ring.Current.Kid;
            publicKey = ring.Current.PublicKeyDer();
        }

        string path = TestDatabase.PathIn(_dir);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        using var restarted = new SigningKeyRing(Store(), _time, s_options);
        Assert.Equal(kid, restarted.Current.Kid);
        Assert.Equal(publicKey, restarted.Current.PublicKeyDer());
    }

    [Fact]
    public void ARestartAfterTheRotationPeriodRotatesAndStillPublishesTheOldKey()
    {
        string kid;
        using (var ring = new SigningKeyRing(Store(), _time, s_options))
        {
            kid = ring.Current.Kid;
        }

        _time.Advance(TimeSpan.FromHours(25));
        using var restarted = new SigningKeyRing(Store(), _time, s_options);
        Assert.NotEqual(kid, restarted.Current.Kid);
        Assert.Contains(kid, restarted.PublicKeys().Select(k => k.Kid));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("""{ "version": 2, "keys": [] }""")]
    [InlineData("""{ "version": 1, "keys": [ { "kid": "00", "private_key_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "created_at": "2026-01-01T00:00:00Z", "retired_at": null, "not_after": null } ] }""")]
    public void ABadKeysFileToImportStopsTheBrokerWithAMessageThatQuotesNoKey(string content)
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "signing-keys.json"), content);

        var ex = Assert.Throws<BrokerConfigurationException>(() => new SigningKeyRing(Store(), _time, s_options));
        Assert.Contains("signing-keys.json", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AAAA", ex.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "signing-keys.json")));
    }

    private SqliteSigningKeyStore Store()
    {
        SqliteBrokerDatabase database = TestDatabase.Open(_dir);
        _databases.Add(database);
        return new SqliteSigningKeyStore(database);
    }
}
