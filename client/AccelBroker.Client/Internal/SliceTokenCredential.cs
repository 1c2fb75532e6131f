using Grpc.Core;

namespace AccelBroker.Client.Internal;

/// <summary>Sends the session's current slice token to the agent on every call.</summary>
internal sealed class SliceTokenCredential(SliceTokenSource source) : HeaderCredential
{
    protected override Metadata.Entry Entry => source.Entry;

    protected override Metadata Headers => source.Headers;
}
