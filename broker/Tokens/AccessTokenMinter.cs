using AccelBroker.Hosting.Tokens;
using AccelBroker.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace AccelBroker.Broker.Tokens;

/// <summary>
/// Signs the tokens agents check offline with the current key of <see cref="SigningKeyRing"/>: slice tokens for client
/// hosts, operator tokens for one agent, control tokens for the broker's own AgentControl calls.
/// </summary>
internal sealed class AccessTokenMinter(SigningKeyRing ring, TimeProvider time, BrokerOptions options)
{

    /// <summary>Control tokens live briefly: they never leave the broker, and a leaked one is soon worthless.</summary>
    public static readonly TimeSpan ControlTokenLifetime = TimeSpan.FromMinutes(2);

    /// <summary>A slice token: the host's access to one slice on the agent that holds it, at one placement epoch.</summary>
    public SignedToken Slice(string agentId, string host, string sliceId, long epoch) =>
        Sign(new AccessGrant(AccessScope.Slice, agentId, host, sliceId, default) { Epoch = epoch }, options.SliceTokenLifetime);

    /// <summary>An operator token for one agent, naming the operator's key.</summary>
    public SignedToken Operator(string agentId, string keyName) =>
        Sign(new AccessGrant(AccessScope.Operator, agentId, keyName, null, default), options.SliceTokenLifetime);

    /// <summary>A token for the broker's own AgentControl calls to one agent.</summary>
    public SignedToken Control(string agentId) =>
        Sign(new AccessGrant(AccessScope.Control, agentId, AccessGrant.BrokerSubject, null, default), ControlTokenLifetime);

    /// <summary>The public keys agents are to trust now, as the protocol carries them.</summary>
    public IEnumerable<TokenKey> PublishedKeys() =>
        ring.PublicKeys().Select(k =>
        {
            var key = new TokenKey { Kid = k.Kid, PublicKey = ByteString.CopyFrom(k.SubjectPublicKeyInfo) };
            if (k.NotAfter is { } notAfter)
            {
                key.NotAfter = Timestamp.FromDateTimeOffset(notAfter);
            }

            return key;
        });

    private SignedToken Sign(AccessGrant grant, TimeSpan lifetime)
    {
        SigningKey key = ring.Current;
        DateTimeOffset now = time.GetUtcNow();
        // JWT times are whole seconds; the expiry reported is the one the token carries.
        DateTimeOffset expires = DateTimeOffset.FromUnixTimeSeconds((now + lifetime).ToUnixTimeSeconds());
        return new SignedToken(AccessTokenIssuer.Issue(key.Kid, key.Key, grant with { ExpiresAt = expires }, now), expires);
    }
}
