using Grpc.Core;

namespace AccelBroker.Hosting.Tokens;

/// <summary>The one reading of <c>authorization: Bearer …</c> that both hosts' authorization uses.</summary>
public static class BearerHeader
{
    private const string Scheme = "Bearer ";

    /// <summary>
    /// The credential in the call's <c>authorization: Bearer</c> header, as a slice of the header's own text (so a hot
    /// path can look it up without copying it); empty when there is none.
    /// </summary>
    public static ReadOnlyMemory<char> Of(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string? header = context.RequestHeaders.GetValue("authorization");
        return header is not null && header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            ? header.AsMemory(Scheme.Length).Trim()
            : ReadOnlyMemory<char>.Empty;
    }
}
