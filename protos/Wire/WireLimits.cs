namespace AccelBroker.Protocol.Wire;

/// <summary>Sizes both sides agree on.</summary>
internal static class WireLimits
{
    /// <summary>Largest model upload chunk (before compression).</summary>
    public const int ModelChunkBytes = 1024 * 1024;

    /// <summary>
    /// Inputs larger than this go on the streaming call: a unary request must stay under gRPC's
    /// default 4 MB receive limit with room for the envelope.
    /// </summary>
    public const int UnaryPayloadBytes = 3 * 1024 * 1024;

    /// <summary>Data bytes per message on the streaming run call.</summary>
    public const int StreamChunkBytes = 2 * 1024 * 1024;

    /// <summary>Largest message a peer accepts on the streaming call (a chunk plus envelope).</summary>
    public const int MaxStreamMessageBytes = StreamChunkBytes + 64 * 1024;
}
