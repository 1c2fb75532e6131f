using System.Buffers;
using AccelBroker.Hosting.Transport;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Hosting;

/// <summary>The agent's Kestrel pool: large blocks, reused, bounded, and given back when idle.</summary>
public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void BlocksAreLargeAndAReturnedOneIsTheNextRented()
    {
        using var pool = new LargeBlockMemoryPool(128 * 1024, 8, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        IMemoryOwner<byte> first = pool.Rent(4096);
        Memory<byte> memory = first.Memory;
        Assert.Equal(128 * 1024, memory.Length);
        first.Dispose();

        using IMemoryOwner<byte> second = pool.Rent();
        Assert.True(second.Memory.Span == memory.Span);
        Assert.Equal(0, pool.IdleBlocks);
    }

    [Fact]
    public void ADisposedLeaseGivesItsBlockBackOnceAndCannotBeUsedAgain()
    {
        using var pool = new LargeBlockMemoryPool(64 * 1024, 8, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        IMemoryOwner<byte> lease = pool.Rent();
        lease.Dispose();
        lease.Dispose();

        Assert.Equal(1, pool.IdleBlocks);
        Assert.Throws<ObjectDisposedException>(() => lease.Memory);
    }

    [Fact]
    public void NoMoreThanTheBoundWaitsForReuse()
    {
        using var pool = new LargeBlockMemoryPool(64 * 1024, 3, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        IMemoryOwner<byte>[] leases = [.. Enumerable.Range(0, 10).Select(_ => pool.Rent())];
        foreach (IMemoryOwner<byte> lease in leases)
        {
            lease.Dispose();
        }

        Assert.Equal(3, pool.IdleBlocks);
    }

    [Fact]
    public void IdleBlocksAreDroppedAfterTheIdleLimit()
    {
        var time = new FakeTimeProvider();
        using var pool = new LargeBlockMemoryPool(64 * 1024, 8, TimeSpan.FromSeconds(30), time);
        pool.Rent().Dispose();
        time.Advance(TimeSpan.FromSeconds(20));
        IMemoryOwner<byte> a = pool.Rent();
        IMemoryOwner<byte> b = pool.Rent();
        a.Dispose();
        b.Dispose();
        Assert.Equal(2, pool.IdleBlocks);

        time.Advance(TimeSpan.FromSeconds(45));

        Assert.Equal(0, pool.IdleBlocks);
    }

    [Fact]
    public void ARequestLargerThanABlockIsRefused()
    {
        using var pool = new LargeBlockMemoryPool(64 * 1024, 8, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent((64 * 1024) + 1));
    }
}
