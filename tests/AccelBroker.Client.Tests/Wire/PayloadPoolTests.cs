using AccelBroker.Protocol.Wire;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Wire;

public sealed class PayloadPoolTests
{
    [Fact]
    public void ALargeArrayComesBackToTheNextRenterOfItsSize()
    {
        using var pool = new PayloadPool(16L * 1024 * 1024, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        byte[] first = pool.Rent(600_000);
        Assert.Equal(1 << 20, first.Length);
        pool.Return(first);

        Assert.Same(first, pool.Rent(700_000));
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void SmallArraysAreNeverKept()
    {
        using var pool = new PayloadPool(16L * 1024 * 1024, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        byte[] small = pool.Rent(100);
        Assert.Equal(100, small.Length);
        pool.Return(small);
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void ThePoolKeepsNoMoreThanItsBound()
    {
        using var pool = new PayloadPool(4L * 1024 * 1024, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        byte[][] rented = [.. Enumerable.Range(0, 10).Select(_ => pool.Rent(1 << 20))];
        foreach (byte[] array in rented)
        {
            pool.Return(array);
        }

        Assert.Equal(4L * 1024 * 1024, pool.RetainedBytes);
    }

    [Fact]
    public void ArraysLeftIdlePastTheLimitAreDroppedAndRecentOnesKept()
    {
        var time = new FakeTimeProvider();
        using var pool = new PayloadPool(64L * 1024 * 1024, TimeSpan.FromSeconds(30), time);
        pool.Return(pool.Rent(1 << 20));
        time.Advance(TimeSpan.FromSeconds(20));
        byte[] recent = pool.Rent(1 << 21);
        pool.Return(recent);
        Assert.Equal(3L << 20, pool.RetainedBytes);

        // The pool's own timer trims: the first array has now waited 35 s, the second 15 s.
        time.Advance(TimeSpan.FromSeconds(15));

        Assert.Equal(2L << 20, pool.RetainedBytes);
        Assert.Same(recent, pool.Rent(1 << 21));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void ReleasingABuffersOwnerTwiceReturnsEachArrayOnce()
    {
        using var pool = new PayloadPool(64L * 1024 * 1024, TimeSpan.FromSeconds(30), new FakeTimeProvider());
        var owner = new PooledBuffers(pool);
        owner.Rent(1 << 20);
        owner.Rent(100);
        owner.Release();
        owner.Release();
        Assert.Equal(1L << 20, pool.RetainedBytes);
    }
}
