using AccelBroker.Broker;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Storage;
using AccelBroker.Tests.Storage;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Broker;

/// <summary>Enrolment in broker.db: owner-only, hashes only, read back after a restart.</summary>
public sealed class EnrollmentStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "enrol-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    private readonly List<SqliteBrokerDatabase> _databases = [];

    public void Dispose()
    {
        _databases.ForEach(d => d.Dispose());
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void TokensAndCredentialsSurviveARestartAsHashesInAnOwnerOnlyDatabase()
    {
        EnrollmentBook book = NewBook();
        (_, string token) = book.CreateToken("gpu-1", TimeSpan.FromHours(1), reusable: false);
        (AgentCredentialRecord record, string credential, _) = book.Enroll(token);

        EnrollmentBook restarted = NewBook();
        Assert.Equal(record.AgentId, restarted.FindLive(credential)?.AgentId);
        Assert.Throws<AccelBroker.Hosting.Errors.DomainException>(() => restarted.Enroll(token));

        foreach (string path in Directory.GetFiles(_dir))
        {
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            string text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(path));
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
            Assert.DoesNotContain(credential, text, StringComparison.Ordinal);
        }

        restarted.Revoke(record.AgentId);
        Assert.Null(NewBook().FindLive(credential));
    }

    private EnrollmentBook NewBook()
    {
        SqliteBrokerDatabase database = TestDatabase.Open(_dir);
        _databases.Add(database);
        return new(new SqliteEnrollmentTokenStore(database), new SqliteAgentCredentialStore(database), _time);
    }
}
