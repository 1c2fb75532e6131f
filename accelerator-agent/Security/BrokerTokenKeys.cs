using AccelBroker.Agent.Internal;
using AccelBroker.Hosting.Tokens;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace AccelBroker.Agent.Security;

/// <summary>
/// Takes the broker's token keys from each registration and heartbeat answer into the verifier, so the agent follows
/// key rotation with no call of its own and never asks the broker about a token.
/// </summary>
internal sealed class BrokerTokenKeys(AccessTokenVerifier verifier, ILogger<BrokerTokenKeys> logger)
{
    public void Accept(IEnumerable<TokenKey> published)
    {
        TrustedKey[] keys = [.. published.Select(k => new TrustedKey(k.Kid, k.PublicKey.ToByteArray(), k.NotAfter?.ToDateTimeOffset()))];
        if (verifier.Trust(keys))
        {
            AgentLog.TokenKeysChanged(logger, string.Join(", ", verifier.TrustedKeyIds));
        }
    }
}
