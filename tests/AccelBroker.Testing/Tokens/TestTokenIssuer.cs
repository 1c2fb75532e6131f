using System.Security.Cryptography;
using AccelBroker.Hosting.Tokens;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.DependencyInjection;

namespace AccelBroker.Tests.Tokens;

/// <summary>
/// Stands in for a broker's key ring where an agent runs without a broker: one P-256 key whose public half the agent
/// is told to trust, signing tokens of any scope.
/// </summary>
public sealed class TestTokenIssuer : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestTokenIssuer(string? kid = null)
    {
        Kid = kid ?? RandomNumberGenerator.GetHexString(16, lowercase: true);
        Key = new TrustedKey(Kid, _key.ExportSubjectPublicKeyInfo(), NotAfter: null);
    }

    public string Kid { get; }

    /// <summary>The public key an agent verifies this issuer's tokens with.</summary>
    public TrustedKey Key { get; }

    /// <summary>Signs a token granting <paramref name="scope"/> on <paramref name="agentId"/>, valid for <paramref name="lifetime"/> (default an hour).</summary>
    public string Mint(AccessScope scope, string agentId, string? sliceId = null, TimeSpan? lifetime = null, string subject = "test", DateTimeOffset? issuedAt = null, long epoch = 0)
    {
        DateTimeOffset now = issuedAt ?? DateTimeOffset.UtcNow;
        var grant = new AccessGrant(scope, agentId, subject, sliceId, now + (lifetime ?? TimeSpan.FromHours(1))) { Epoch = epoch };
        return AccessTokenIssuer.Issue(Kid, _key, grant, now);
    }

    /// <summary>
    /// Has an agent that runs without a broker trust this issuer's key, and returns <paramref name="channel"/>'s calls
    /// to it carrying the tokens a broker would have given (<see cref="TestTokenInjector"/>).
    /// </summary>
    public CallInvoker TrustedBy(IServiceProvider agentServices, ChannelBase channel, string agentId, string? defaultSlice = null)
    {
        agentServices.GetRequiredService<AccessTokenVerifier>().Trust([Key]);
        return channel.Intercept(new TestTokenInjector((scope, slice) => Mint(scope, agentId, slice), defaultSlice));
    }

    public void Dispose() => _key.Dispose();
}
