using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Storage;
using AccelBroker.Broker.Tokens;

namespace AccelBroker.Tests.Storage;

/// <summary>The stores over broker.db in a directory; reopening closes the connection and opens a new one, as a restart does.</summary>
internal sealed class SqliteStoreSet(string dataDir) : IStoreSet
{
    public SqliteBrokerDatabase Database { get; } = TestDatabase.Open(dataDir);

    public IAttachmentStore Attachments => new SqliteAttachmentStore(Database);

    public IAgentStore Agents => new SqliteAgentStore(Database);

    public IApiKeyStore ApiKeys => new SqliteApiKeyStore(Database);

    public IEnrollmentTokenStore EnrollmentTokens => new SqliteEnrollmentTokenStore(Database);

    public IAgentCredentialStore AgentCredentials => new SqliteAgentCredentialStore(Database);

    public ISigningKeyStore SigningKeys => new SqliteSigningKeyStore(Database);

    public SqliteUsageStore Usage => new(Database);

    public bool KeepsSigningKeys => true;

    public IStoreSet Reopen()
    {
        Database.Dispose();
        return new SqliteStoreSet(dataDir);
    }

    public void Dispose() => Database.Dispose();
}
