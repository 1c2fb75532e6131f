namespace AccelBroker.Hosting.Transport;

/// <summary>The sizes of a host's transport memory pools (each connection listener gets one).</summary>
/// <param name="BlockBytes">Bytes per block: the most one <c>recv</c> reads. Default 128 KiB.</param>
/// <param name="MaxIdleBlocks">Blocks kept for reuse per pool at most. Default 512 (64 MiB of 128 KiB blocks).</param>
/// <param name="IdleLimit">How long an unused block is kept. Default 30 s.</param>
public sealed record TransportPoolOptions(int BlockBytes = 128 * 1024, int MaxIdleBlocks = 512, TimeSpan IdleLimit = default)
{
    /// <summary>How long an unused block is kept.</summary>
    public TimeSpan IdleLimit { get; init; } = IdleLimit == default ? TimeSpan.FromSeconds(30) : IdleLimit;
}
