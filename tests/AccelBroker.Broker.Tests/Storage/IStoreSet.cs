using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Enrollment;
using AccelBroker.Broker.Fleet;
using AccelBroker.Broker.Security;
using AccelBroker.Broker.Tokens;

namespace AccelBroker.Tests.Storage;

/// <summary>
/// One implementation of every store kind over one state, as a broker wires them. A PostgreSQL fixture implements it
/// too and derives a class from <see cref="StoreContractTests"/>.
/// </summary>
internal interface IStoreSet : IDisposable
{
    IAttachmentStore Attachments { get; }

    IAgentStore Agents { get; }

    IApiKeyStore ApiKeys { get; }

    IEnrollmentTokenStore EnrollmentTokens { get; }

    IAgentCredentialStore AgentCredentials { get; }

    ISigningKeyStore SigningKeys { get; }

    /// <summary>Whether a restart keeps the signing keys (in memory they are not kept: a restarted broker signs anew).</summary>
    bool KeepsSigningKeys { get; }

    /// <summary>The stores a restarted broker would open over the same state; this set is closed first where that matters.</summary>
    IStoreSet Reopen();
}
