using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AccelBroker.Client.Internal;

/// <summary>
/// Sends a fixed secret as <c>authorization: Bearer …</c>: an API key or host credential to the broker only (an agent
/// never sees one), or a broker-signed access token to an agent.
/// </summary>
internal sealed class BearerCredential : HeaderCredential
{
    private readonly Metadata.Entry _entry;
    private readonly Metadata _headers;

    public BearerCredential(string secret)
    {
        _entry = new Metadata.Entry("authorization", "Bearer " + secret);
        _headers = [_entry];
    }

    protected override Metadata.Entry Entry => _entry;

    protected override Metadata Headers => _headers;

    /// <summary>The interceptors of a client: the caller's, then the credential when there is one.</summary>
    public static Interceptor[] Around(IReadOnlyList<Interceptor> interceptors, string? secret) =>
        string.IsNullOrEmpty(secret) ? [.. interceptors] : [.. interceptors, new BearerCredential(secret)];
}
