using AccelBroker.Agent;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>Without --threads, the slots' forward passes together use the cores, not more.</summary>
public sealed class IntraOpThreadsTests
{
    [Theory]
    [InlineData(1, 2, 2)]
    [InlineData(2, 2, 1)]
    [InlineData(3, 2, 1)]
    [InlineData(2, 8, 4)]
    [InlineData(3, 8, 2)]
    [InlineData(1, 1, 1)]
    [InlineData(0, 4, 4)]
    public void TheCoresAreDividedAmongTheSlots(int slots, int cores, int expected)
    {
        int threads = AgentHost.DefaultIntraOpThreads(slots, cores);

        Assert.Equal(expected, threads);
        Assert.True(threads == 1 || threads * Math.Max(1, slots) <= cores, "passes at once never ask for more threads than cores, unless one each");
    }
}
