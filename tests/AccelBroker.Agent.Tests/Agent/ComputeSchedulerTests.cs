using AccelBroker.Agent.Execution;
using AccelBroker.Hosting.Errors;
using AccelBroker.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>Slices get execution time in proportion to their compute shares, on a virtual clock.</summary>
public sealed class ComputeSchedulerTests
{
    private static readonly TimeSpan Cost = TimeSpan.FromMilliseconds(10);
    private readonly FakeTimeProvider _time = new();

    // Slices released, as the agent's slice registry would tell.
    private readonly HashSet<string> _gone = new(StringComparer.Ordinal);

    [Fact]
    public async Task SaturatedSlicesShareTheSlotByTheirShares()
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);
        var grants = new Dictionary<string, int> { ["quarter"] = 0, ["half"] = 0 };

        await SaturateAsync(scheduler, [("quarter", 0.25), ("half", 0.5)], executions: 300, grants);

        Assert.InRange(grants["half"] / (double)grants["quarter"], 1.9, 2.1);
    }

    [Fact]
    public async Task ASliceAloneBorrowsTheIdleShares()
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);

        for (int i = 0; i < 50; i++)
        {
            ValueTask<ComputeLease> pending = scheduler.AcquireAsync("small", 0.125, CancellationToken.None);
            Assert.True(pending.IsCompletedSuccessfully, "a slice alone must never wait for a free slot");
            _time.Advance(Cost);
            (await pending).Dispose();
        }
    }

    [Fact]
    public async Task IdleTimeIsNotSavedUp()
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);
        for (int i = 0; i < 100; i++)
        {
            using ComputeLease lease = await scheduler.AcquireAsync("busy", 0.5, CancellationToken.None);
            _time.Advance(Cost);
        }

        // "late" was idle while "busy" ran alone; it must not now get the slot 100 times in a row.
        var grants = new Dictionary<string, int> { ["busy"] = 0, ["late"] = 0 };
        await SaturateAsync(scheduler, [("busy", 0.5), ("late", 0.5)], executions: 40, grants);

        Assert.InRange(grants["late"], 16, 24);
    }

    [Fact]
    public async Task ACancelledWaiterLeavesTheQueueAndOthersProceed()
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);
        ComputeLease running = await scheduler.AcquireAsync("a", 0.5, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        ValueTask<ComputeLease> cancelled = scheduler.AcquireAsync("b", 0.5, cancel.Token);
        ValueTask<ComputeLease> next = scheduler.AcquireAsync("c", 0.5, CancellationToken.None);
        Assert.Equal(2, scheduler.QueueDepth);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
        Assert.Equal(1, scheduler.QueueDepth);
        running.Dispose();

        using ComputeLease lease = await next.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("c", lease.SliceId);
        Assert.Equal(0, scheduler.QueueDepth);
    }

    [Fact]
    public async Task AWaiterPastItsDeadlineNeverGetsTheSlotAndTheNextOneDoes()
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);
        ComputeLease running = await scheduler.AcquireAsync("a", 0.5, CancellationToken.None);
        ValueTask<ComputeLease> expired = scheduler.AcquireAsync("b", 0.5, _time.GetUtcNow().UtcDateTime.AddSeconds(1), CancellationToken.None);
        ValueTask<ComputeLease> next = scheduler.AcquireAsync("c", 0.5, _time.GetUtcNow().UtcDateTime.AddSeconds(60), CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(2));
        running.Dispose();

        DomainException error = await Assert.ThrowsAsync<DomainException>(async () => await expired);
        Assert.Equal(DomainErrorKind.DeadlineExceeded, error.Kind);
        Assert.Equal("the call's deadline passed while it waited for an execution slot; the model was not run", error.Message);
        using ComputeLease lease = await next.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("c", lease.SliceId);
        Assert.Equal(new ComputeUsage(0, 0, 0), scheduler.UsageOf("b"));
        Assert.Equal(0, scheduler.QueueDepth);
    }

    [Fact]
    public async Task TwoSlotsRunTwoAtOnce()
    {
        var scheduler = new ComputeScheduler(2, _time, _gone.Contains);
        using ComputeLease first = await scheduler.AcquireAsync("a", 0.25, CancellationToken.None);
        ValueTask<ComputeLease> second = scheduler.AcquireAsync("b", 0.25, CancellationToken.None);
        ValueTask<ComputeLease> third = scheduler.AcquireAsync("a", 0.25, CancellationToken.None);

        Assert.True(second.IsCompletedSuccessfully);
        Assert.False(third.IsCompleted);
        (await second).Dispose();
        (await third.AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }

    [Fact]
    public async Task UsageShowsEachSlicesWaitersAndTheExecutionTimeItUsed()
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);
        ComputeLease running = await scheduler.AcquireAsync("a", 0.5, CancellationToken.None);
        ValueTask<ComputeLease> a = scheduler.AcquireAsync("a", 0.5, CancellationToken.None);
        ValueTask<ComputeLease> b1 = scheduler.AcquireAsync("b", 0.25, CancellationToken.None);
        ValueTask<ComputeLease> b2 = scheduler.AcquireAsync("b", 0.25, CancellationToken.None);

        Assert.Equal(new ComputeUsage(1, 0, Running: 1), scheduler.UsageOf("a"));
        Assert.Equal(new ComputeUsage(2, 0), scheduler.UsageOf("b"));
        Assert.Equal(default, scheduler.UsageOf("never-seen"));

        // Only time holding a slot counts: b's waiting is not charged to it.
        _time.Advance(TimeSpan.FromMilliseconds(30));
        running.Dispose();
        var pending = new List<Task<ComputeLease>> { a.AsTask(), b1.AsTask(), b2.AsTask() };
        while (pending.Count > 0)
        {
            Task<ComputeLease> granted = await Task.WhenAny(pending).WaitAsync(TimeSpan.FromSeconds(10));
            pending.Remove(granted);
            using ComputeLease lease = await granted;
            _time.Advance(TimeSpan.FromMilliseconds(lease.SliceId == "a" ? 20 : 5));
        }

        Assert.Equal(new ComputeUsage(0, 0.05), Rounded(scheduler.UsageOf("a")));
        Assert.Equal(new ComputeUsage(0, 0.01), Rounded(scheduler.UsageOf("b")));
    }

    [Fact]
    public async Task AGrantedWaiterIsChargedFromWhenItResumesNotFromTheGrant()
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);
        ComputeLease running = await scheduler.AcquireAsync("a", 0.5, CancellationToken.None);

        // The waiter's continuation goes to a context that runs it only when told: a busy thread pool, held still.
        var held = new HeldSynchronizationContext();
        ValueTask<ComputeLease> waiting;
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(held);
        try
        {
            waiting = scheduler.AcquireAsync("b", 0.5, CancellationToken.None);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        running.Dispose();
        _time.Advance(TimeSpan.FromSeconds(5));
        held.RunHeld();
        using (ComputeLease lease = await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10)))
        {
            _time.Advance(Cost);
        }

        Assert.Equal(new ComputeUsage(0, 0.01), Rounded(scheduler.UsageOf("b")));
    }

    [Fact]
    public async Task ARemovedSliceIsForgottenOnceItsLastExecutionEnds()
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);
        (await scheduler.AcquireAsync("idle", 0.5, CancellationToken.None)).Dispose();
        ComputeLease running = await scheduler.AcquireAsync("gone", 0.5, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        ValueTask<ComputeLease> waiting = scheduler.AcquireAsync("gone", 0.5, cancel.Token);

        _gone.UnionWith(["idle", "gone"]);
        scheduler.Remove("idle");
        scheduler.Remove("gone");
        Assert.Equal(default, scheduler.UsageOf("idle"));
        Assert.Equal(1, scheduler.UsageOf("gone").Waiting);

        // Runs under way are still charged until they end; the waiter gives up, the running one ends.
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        _time.Advance(Cost);
        Assert.Equal(0, scheduler.UsageOf("gone").Waiting);
        running.Dispose();

        Assert.Equal(default, scheduler.UsageOf("gone"));
        Assert.Equal(0, scheduler.QueueDepth);
    }

    [Fact]
    public async Task ARunThatAsksForASlotAfterItsSliceWasRemovedIsForgottenWhenItEnds()
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);

        // Released before its last run (which took its model just before) asked for a slot.
        _gone.Add("a");
        scheduler.Remove("a");
        using (ComputeLease late = await scheduler.AcquireAsync("a", 0.5, CancellationToken.None))
        {
            _time.Advance(Cost);
            Assert.Equal(new ComputeUsage(0, 0, Running: 1), scheduler.UsageOf("a"));
        }

        Assert.Equal(default, scheduler.UsageOf("a"));

        // An id assigned again is a live tenant like any other.
        _gone.Remove("a");
        using (ComputeLease again = await scheduler.AcquireAsync("a", 0.5, CancellationToken.None))
        {
            _time.Advance(Cost);
        }

        Assert.Equal(new ComputeUsage(0, 0.01), Rounded(scheduler.UsageOf("a")));
    }

    [Fact]
    public async Task ARemovedSliceWithAWaiterIsForgottenWhenTheWaiterGivesUp()
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);
        using ComputeLease other = await scheduler.AcquireAsync("other", 0.5, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        ValueTask<ComputeLease> waiting = scheduler.AcquireAsync("gone", 0.5, cancel.Token);

        _gone.Add("gone");
        scheduler.Remove("gone");
        Assert.Equal(1, scheduler.UsageOf("gone").Waiting);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);

        Assert.Equal(default, scheduler.UsageOf("gone"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void ImpossibleSharesAreRefused(double share)
    {
        var scheduler = new ComputeScheduler(1, _time, _gone.Contains);

        Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.AcquireAsync("a", share, CancellationToken.None));
    }

    private static ComputeUsage Rounded(ComputeUsage usage) => usage with { SecondsUsed = Math.Round(usage.SecondsUsed, 9) };

    // Every slice always has a request waiting; each execution costs the same. Counts who gets the slot.
    private async Task SaturateAsync(ComputeScheduler scheduler, (string Slice, double Share)[] slices, int executions, Dictionary<string, int> grants)
    {
        var waiting = new List<Task<ComputeLease>>();
        ComputeLease current = await scheduler.AcquireAsync("warm-up", 1, CancellationToken.None);
        foreach ((string slice, double share) in slices)
        {
            waiting.Add(scheduler.AcquireAsync(slice, share, CancellationToken.None).AsTask());
        }

        for (int i = 0; i < executions; i++)
        {
            _time.Advance(Cost);
            current.Dispose();
            // A granted waiter resumes on the thread pool; the manual clock stands still meanwhile.
            Task<ComputeLease> next = await Task.WhenAny(waiting).WaitAsync(TimeSpan.FromSeconds(10));
            int granted = waiting.IndexOf(next);
            current = await next;
            grants[current.SliceId]++;
            (string slice, double share) = slices[granted];
            waiting[granted] = scheduler.AcquireAsync(slice, share, CancellationToken.None).AsTask();
        }

        _time.Advance(Cost);
        current.Dispose();
        // Drain in grant order: each remaining request gets the slot when the one before it lets go.
        var pending = waiting.ToList();
        while (pending.Count > 0)
        {
            Task<ComputeLease> done = await Task.WhenAny(pending).WaitAsync(TimeSpan.FromSeconds(10));
            pending.Remove(done);
            (await done).Dispose();
        }
    }
}
