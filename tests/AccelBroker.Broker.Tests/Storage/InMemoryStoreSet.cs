using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Tokens;

namespace AccelBroker.Tests.Storage;

/// <summary>The stores without a data directory: the state is the objects, so reopening keeps the same ones.</summary>
internal sealed class InMemoryStoreSet : IStoreSet
{
    public IAttachmentStore Attachments { get; } = new InMemoryAttachmentStore();

    public IAgentStore Agents { get; } = new InMemoryAgentStore();

    public IApiKeyStore ApiKeys { get; } = new InMemoryApiKeyStore();

    public IEnrollmentTokenStore EnrollmentTokens { get; } = new InMemoryEnrollmentTokenStore();

    public IAgentCredentialStore AgentCredentials { get; } = new InMemoryAgentCredentialStore();

    public ISigningKeyStore SigningKeys { get; } = new InMemorySigningKeyStore();

    public bool KeepsSigningKeys => false;

    public IStoreSet Reopen() => this;

    public void Dispose()
    {
    }
}
