using AccelBroker.Hosting.Tokens;
using Grpc.Core;

namespace AccelBroker.Agent.Security;

/// <summary>A request stream whose messages must not name a slice other than the caller's token grants.</summary>
internal sealed class SliceScopedReader<T>(IAsyncStreamReader<T> inner, AccessGrant grant) : IAsyncStreamReader<T>
{
    public T Current => inner.Current;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (!await inner.MoveNext(cancellationToken))
        {
            return false;
        }

        AgentAuthorization.CheckSlice(grant, SliceScope.Of(inner.Current));
        return true;
    }
}
