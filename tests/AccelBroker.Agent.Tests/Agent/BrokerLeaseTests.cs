using AccelBroker.Agent.Registration;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>
/// When an agent stops serving its slices: after it could not complete a heartbeat for the broker's fence_after (it was
/// frozen or starved, so its slices may have moved), but not while it keeps trying a broker that is down.
/// </summary>
public sealed class BrokerLeaseTests
{
    private static readonly TimeSpan FenceAfter = TimeSpan.FromSeconds(8);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void AnAgentWithoutABrokerIsNeverFenced()
    {
        var lease = new BrokerLease(_time);

        _time.Advance(TimeSpan.FromHours(1));

        Assert.False(lease.IsFenced);
        Assert.False(lease.Unanswered());
    }

    [Fact]
    public void AnAgentFrozenPastTheLimitIsFencedUntilTheBrokerConfirmsItsSlices()
    {
        var lease = new BrokerLease(_time);
        lease.Confirmed(FenceAfter);
        _time.Advance(TimeSpan.FromSeconds(7));
        Assert.False(lease.IsFenced);

        // SIGSTOP for 20 s: on waking, calls are refused before the heartbeat loop has even run.
        _time.Advance(TimeSpan.FromSeconds(13));
        Assert.True(lease.IsFenced);
        Assert.Equal(TimeSpan.FromSeconds(20), lease.SilentFor);

        // A heartbeat that cannot reach the broker now does not lift the fence: the agent cannot know what moved.
        Assert.True(lease.Unanswered());
        Assert.True(lease.IsFenced);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(lease.Unanswered());
        Assert.True(lease.IsFenced);

        lease.Confirmed();
        Assert.False(lease.IsFenced);
    }

    [Fact]
    public void AnAgentThatKeepsTryingABrokerThatIsDownKeepsServing()
    {
        var lease = new BrokerLease(_time);
        lease.Confirmed(FenceAfter);

        for (int beat = 0; beat < 60; beat++)
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            Assert.False(lease.Unanswered());
            Assert.False(lease.IsFenced);
        }
    }
}
