using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Slices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>
/// The agent's own guard (slices never add up to more memory or compute than it offers, whatever a broker asks),
/// what the registry tells others about released slices, and the ids it refuses.
/// </summary>
public sealed class SliceRegistryTests
{
    private static readonly AgentCapacity Capacity = new() { MemoryBytes = 8_000, Compute = 1 };

    [Fact]
    public void SlicesBeyondTheAgentsMemoryAreRefusedAndTheOthersKept()
    {
        var registry = new SliceRegistry(Capacity, 0.9, NullLogger<SliceRegistry>.Instance);
        registry.Assign(Slice("a", 5_000, 0.25));

        DomainException error = Assert.Throws<DomainException>(() => registry.Assign(Slice("b", 3_001, 0.25)));

        Assert.Equal(DomainErrorKind.ResourceExhausted, error.Kind);
        Assert.Contains("slices would hold 8001 of 8000 bytes", error.Message);
        Assert.Equal(["a"], registry.All.Select(s => s.Id));
        registry.Assign(Slice("c", 3_000, 0.25)); // an exact fit is fine
        Assert.Equal(2, registry.All.Count);
    }

    [Fact]
    public void ASliceAssignedAgainReportsItsUsageUnderANewIncarnation()
    {
        var registry = new SliceRegistry(Capacity, 0.9, NullLogger<SliceRegistry>.Instance);
        registry.Assign(Slice("a", 1_000, 0.25));
        string first = registry.Get("a").Usage.ToProto().Incarnation;
        Assert.Equal(first, registry.Get("a").Usage.ToProto().Incarnation);

        // As after an agent restart: the slice is created again, its counters from zero.
        registry.Release("a");
        registry.Assign(Slice("a", 1_000, 0.25));
        string second = registry.Get("a").Usage.ToProto().Incarnation;

        Assert.Matches("^[0-9a-f]{16}$", first);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void SlicesBeyondTheAgentsComputeAreRefusedButTenTenthsFit()
    {
        var registry = new SliceRegistry(Capacity, 0.9, NullLogger<SliceRegistry>.Instance);
        for (int i = 0; i < 10; i++)
        {
            registry.Assign(Slice($"s{i}", 100, 0.1));
        }

        DomainException error = Assert.Throws<DomainException>(() => registry.Assign(Slice("extra", 100, 0.1)));

        Assert.Equal(DomainErrorKind.ResourceExhausted, error.Kind);
        Assert.Contains("1.1 of 1 of the device's compute", error.Message);
    }

    [Fact]
    public void ReconcileAssignsWhatFitsAndSkipsWhatDoesNot()
    {
        var registry = new SliceRegistry(Capacity, 0.9, NullLogger<SliceRegistry>.Instance);

        registry.Reconcile([Slice("a", 6_000, 0.5), Slice("b", 6_000, 0.5)]);

        Assert.Single(registry.All);
    }

    [Fact]
    public void ASlicesThresholdIsItsFractionOfTheBudget()
    {
        var registry = new SliceRegistry(Capacity, 0.75, NullLogger<SliceRegistry>.Instance);
        registry.Assign(Slice("a", 4_000, 0.5));

        Assert.Equal((4_000L, 3_000L), (registry.Get("a").BudgetBytes, registry.Get("a").ThresholdBytes));
    }

    [Fact]
    public void EachReleaseIsToldOnceWhetherByTheBrokerOrByReconciling()
    {
        var registry = new SliceRegistry(Capacity, 0.9, NullLogger<SliceRegistry>.Instance);
        var released = new List<string>();
        registry.Released += released.Add;
        registry.Reconcile([Slice("acc-1", 1, 0.25), Slice("acc-2", 1, 0.25)]);

        Assert.True(registry.Release("acc-1"));
        Assert.False(registry.Release("acc-1"));
        registry.Reconcile([]);

        Assert.Equal(["acc-1", "acc-2"], released);
    }

    [Fact]
    public void AListAskedForBeforeADirectAssignDoesNotReleaseTheNewSlice()
    {
        // The broker answered a heartbeat before it booked the attach whose AssignSlice arrived first.
        var registry = new SliceRegistry(Capacity, 0.9, NullLogger<SliceRegistry>.Instance);
        long asked = registry.ReconcileMark();
        registry.Assign(Slice("new", 1_000, 0.25));

        registry.Reconcile([], asked);
        Assert.True(registry.IsAssigned("new"));

        // The next heartbeat's list is newer than the assign: if the broker no longer has it, it goes.
        registry.Reconcile([], registry.ReconcileMark());
        Assert.False(registry.IsAssigned("new"));
    }

    [Fact]
    public void AListAskedForBeforeADirectReleaseDoesNotAssignTheSliceAgain()
    {
        var registry = new SliceRegistry(Capacity, 0.9, NullLogger<SliceRegistry>.Instance);
        SliceAssignment gone = Slice("gone", 1_000, 0.25);
        registry.Assign(gone);
        long asked = registry.ReconcileMark();
        Assert.True(registry.Release("gone"));

        registry.Reconcile([gone], asked);
        Assert.False(registry.IsAssigned("gone"));

        // A list asked for after the release that still names the slice is the broker's word: it comes back.
        registry.Reconcile([gone], registry.ReconcileMark());
        Assert.True(registry.IsAssigned("gone"));
    }

    [Fact]
    public void TheLocalBenchmarksComputeTenantIsNotASliceId()
    {
        var registry = new SliceRegistry(Capacity, 0.9, NullLogger<SliceRegistry>.Instance);

        DomainException error = Assert.Throws<DomainException>(() => registry.Assign(Slice(LocalBenchmark.ComputeTenant, 1, 0.25)));

        Assert.Equal(DomainErrorKind.InvalidInput, error.Kind);
        Assert.Empty(registry.All);
    }

    [Fact]
    public void ASliceBackAtAnotherEpochStartsAfreshWhileTheSameEpochKeepsIt()
    {
        var registry = new SliceRegistry(Capacity, 0.9, NullLogger<SliceRegistry>.Instance);
        var released = new List<string>();
        registry.Released += released.Add;
        SliceAssignment first = Slice("acc-1", 1_000, 0.25);
        first.Epoch = 1;
        registry.Assign(first);
        AcceleratorSlice held = registry.Get("acc-1");

        registry.Reconcile([first.Clone()]);
        Assert.Same(held, registry.Get("acc-1"));
        Assert.Empty(released);

        SliceAssignment moved = first.Clone();
        moved.Epoch = 3;
        registry.Reconcile([moved]);

        // The epoch-1 slice (and whatever it had loaded) is gone; the epoch-3 one is new.
        Assert.Equal(["acc-1"], released);
        Assert.NotSame(held, registry.Get("acc-1"));
        Assert.Equal(3, registry.Get("acc-1").Assignment.Epoch);
    }

    private static SliceAssignment Slice(string id, long memory, double share) =>
        new() { SliceId = id, SliceType = "t", MemoryBytes = memory, ComputeShare = share, Host = "h" };
}
