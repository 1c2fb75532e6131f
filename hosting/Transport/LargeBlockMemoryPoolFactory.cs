using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace AccelBroker.Hosting.Transport;

/// <summary>
/// Gives Kestrel <see cref="LargeBlockMemoryPool"/>s: registered as <see cref="IMemoryPoolFactory{T}"/>, it replaces
/// the default 4 KiB-block pools of the host's transports.
/// </summary>
/// <param name="options">Block size and bounds.</param>
/// <param name="time">The clock for idle blocks.</param>
public sealed class LargeBlockMemoryPoolFactory(TransportPoolOptions options, TimeProvider time) : IMemoryPoolFactory<byte>
{
    /// <inheritdoc/>
    public MemoryPool<byte> Create(MemoryPoolOptions? poolOptions = null) =>
        new LargeBlockMemoryPool(options.BlockBytes, options.MaxIdleBlocks, options.IdleLimit, time);
}
