using System.Security.Cryptography;
using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Tokens;
using AccelBroker.Protocol.V1;
using Xunit;

namespace AccelBroker.Tests.Storage;

/// <summary>
/// What every implementation of the store interfaces must do: start empty, give back every field of what was saved
/// (after a restart where the store is durable), and replace the whole kind on each save. A derived class per implementation.
/// </summary>
public abstract class StoreContractTests : IDisposable
{
    private static readonly DateTimeOffset s_time = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.FromHours(2)).AddTicks(1234567);
    private static readonly string s_hashA = new('a', 64);
    private static readonly string s_hashB = new('b', 64);

    private IStoreSet? _stores;

    internal IStoreSet Stores => _stores ??= Open();

    public virtual void Dispose() => _stores?.Dispose();

    [Fact]
    public void AFreshStoreHoldsNothing()
    {
        Assert.Empty(Stores.Attachments.Load());
        Assert.Empty(Stores.Agents.Load());
        Assert.Empty(Stores.ApiKeys.Load());
        Assert.Empty(Stores.EnrollmentTokens.Load());
        Assert.Empty(Stores.AgentCredentials.Load());
        Assert.Empty(Stores.SigningKeys.Load());
    }

    [Fact]
    public void AttachmentsComeBackWithEveryFieldAndTheirEpochs()
    {
        AttachmentRecord[] saved =
        [
            new AttachmentRecord("acc-1", "host-a", 3, "eia2.large", "m5.xlarge", "agent-a", "http://10.0.0.1:7001", 4L << 30, 0.25, s_time, [s_hashA, s_hashB]) { Epoch = 7 },
            new AttachmentRecord("acc-2", "host-a", 0, "eia2.medium", "", "agent-b", "", 1, 1.0 / 3, s_time.AddDays(1)),
            new AttachmentRecord("acc-3", "host-b", 0, "eia2.medium", "c5.large", "agent-b", "https://b:7001", 2L << 30, 0.125, s_time.ToUniversalTime(), []),
        ];
        Stores.Attachments.Save(saved);

        IReadOnlyList<AttachmentRecord> loaded = Restarted().Attachments.Load();

        Assert.Equal(saved.Length, loaded.Count);
        foreach ((AttachmentRecord expected, AttachmentRecord actual) in saved.Zip(loaded))
        {
            Assert.Equal(expected with { Allowlist = null }, actual with { Allowlist = null });
            Assert.Equal(expected.Epoch, actual.Epoch);
            Assert.Equal(expected.AttachedAt.Offset, actual.AttachedAt.Offset);
            Assert.Equal(expected.Allowlist is null, actual.Allowlist is null);
            Assert.Equal(expected.Allowlist ?? [], actual.Allowlist ?? []);
        }
    }

    [Fact]
    public void AgentsComeBackWithTheirDeviceAndCordonButNotTheirHealth()
    {
        AgentRecord[] saved =
        [
            new AgentRecord("agent-a", "http://10.0.0.1:7001", new DeviceInfo { Kind = "cuda", Index = 1, Name = "H200", TotalMemoryBytes = 141L << 30 },
                80L << 30, 0.75, "p5.48xlarge", "0.1.0", s_time, s_time.AddHours(1), ReportedLost: false) { MetricsAddress = "http://10.0.0.1:9465/metrics", Cordoned = true },
            new AgentRecord("agent-b", "http://b:7001", new DeviceInfo { Kind = "cpu", Name = "Xeon" }, 1L << 30, 1, "", "", s_time, s_time, ReportedLost: true),
        ];
        Stores.Agents.Save(saved);

        IReadOnlyList<AgentRecord> loaded = Restarted().Agents.Load();

        Assert.Equal(saved.Length, loaded.Count);
        foreach ((AgentRecord expected, AgentRecord actual) in saved.Zip(loaded))
        {
            // Health is judged afresh after a restart: last-seen and reported-lost need not survive.
            Assert.Equal(expected with { LastSeen = default, ReportedLost = false }, actual with { LastSeen = default, ReportedLost = false });
        }

        Assert.True(loaded[0].Cordoned);
        Assert.Equal(saved[0].Device, loaded[0].Device);
    }

    [Fact]
    public void ApiKeysComeBackWithEveryField()
    {
        ApiKeyRecord[] saved =
        [
            new("0123456789abcdef", "ci", AccessRole.Operator, null, "hash-1", s_time, "admin", s_time.AddMinutes(5)),
            new("fedcba9876543210", "host-a", AccessRole.Host, "host-a", "hash-2", s_time, null, null),
            new("00112233aabbccdd", "root", AccessRole.Admin, null, "hash-3", s_time, null, null),
            new("44556677eeff0011", "look", AccessRole.Viewer, null, "hash-4", s_time, "root", null),
        ];
        Stores.ApiKeys.Save(saved);

        Assert.Equal(saved, Restarted().ApiKeys.Load());
    }

    [Fact]
    public void EnrolmentTokensAndCredentialsComeBackWithEveryField()
    {
        EnrollmentTokenRecord[] tokens =
        [
            new("t1", "hash-t1", "gpu-1", s_time, s_time.AddHours(1), Reusable: false, UsedAt: s_time.AddMinutes(1)),
            new("t2", "hash-t2", "gpu-*", s_time, s_time.AddDays(1), Reusable: true, UsedAt: null),
        ];
        AgentCredentialRecord[] credentials =
        [
            new("c1", "hash-c1", "agent-a", "gpu-1", s_time, RevokedAt: s_time.AddHours(2), LastSeen: s_time.AddHours(1)),
            new("c2", "hash-c2", "agent-b", "gpu-2", s_time, RevokedAt: null, LastSeen: null),
        ];
        Stores.EnrollmentTokens.Save(tokens);
        Stores.AgentCredentials.Save(credentials);

        IStoreSet restarted = Restarted();
        Assert.Equal(tokens, restarted.EnrollmentTokens.Load());
        Assert.Equal(credentials, restarted.AgentCredentials.Load());
    }

    [Fact]
    public void SigningKeysComeBackAbleToSignWhereTheStoreKeepsThem()
    {
        using var current = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var retired = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        SigningKey[] saved =
        [
            new("00aa", retired, s_time, s_time.AddDays(1), s_time.AddDays(1).AddMinutes(20)),
            new("11bb", current, s_time.AddDays(1), null, null),
        ];
        Stores.SigningKeys.Save(saved);

        IStoreSet restarted = Restarted();
        IReadOnlyList<SigningKey> loaded = restarted.SigningKeys.Load();
        if (!restarted.KeepsSigningKeys)
        {
            Assert.Empty(loaded);
            return;
        }

        Assert.Equal(saved.Length, loaded.Count);
        byte[] data = [1, 2, 3];
        foreach ((SigningKey expected, SigningKey actual) in saved.Zip(loaded))
        {
            Assert.Equal((expected.Kid, expected.CreatedAt, expected.RetiredAt, expected.NotAfter), (actual.Kid, actual.CreatedAt, actual.RetiredAt, actual.NotAfter));
            Assert.Equal(expected.PublicKeyDer(), actual.PublicKeyDer());
            // The private half came back: what it signs, the saved public key verifies.
            Assert.True(expected.Key.VerifyData(data, actual.Key.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
            actual.Key.Dispose();
        }
    }

    [Fact]
    public void ASaveReplacesEverythingOfItsKindAndNothingElse()
    {
        AttachmentRecord first = new("acc-1", "host-a", 0, "eia2.medium", "", "agent-a", "", 1, 0.1, s_time);
        AttachmentRecord second = first with { Id = "acc-2", Ordinal = 1 };
        Stores.Attachments.Save([first, second]);
        Stores.ApiKeys.Save([new("0123456789abcdef", "ci", AccessRole.Operator, null, "hash-1", s_time, null, null)]);

        // The same ordinal taken by another attachment in one save: replacing, not adding, lets it through.
        AttachmentRecord moved = second with { Id = "acc-3", Ordinal = 0, Epoch = 2 };
        Stores.Attachments.Save([moved]);
        Assert.Equal([moved], Stores.Attachments.Load());

        Stores.Attachments.Save([]);
        IStoreSet restarted = Restarted();
        Assert.Empty(restarted.Attachments.Load());
        Assert.Single(restarted.ApiKeys.Load());
    }

    internal abstract IStoreSet Open();

    internal IStoreSet Restarted() => _stores = Stores.Reopen();
}

/// <summary>The stores of a broker without a data directory.</summary>
public sealed class InMemoryStoreContractTests : StoreContractTests
{
    internal override IStoreSet Open() => new InMemoryStoreSet();
}
