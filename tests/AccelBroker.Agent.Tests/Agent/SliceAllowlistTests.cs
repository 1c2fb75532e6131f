using AccelBroker.Agent.Slices;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>How a held slice's allowlist follows the broker: its direct call and its heartbeat lists, in order.</summary>
public sealed class SliceAllowlistTests
{
    private static readonly string A = new('a', 64);
    private static readonly string B = new('b', 64);

    private readonly SliceRegistry _registry = new(new AgentCapacity { MemoryBytes = 8_000, Compute = 1 }, 0.9, NullLogger<SliceRegistry>.Instance);

    [Fact]
    public void AnAssignmentWithoutAnAllowlistAllowsAnyModel()
    {
        _registry.Assign(Slice("s", allowlist: null));

        Assert.True(_registry.Get("s").Allows(A));
        Assert.Null(_registry.Get("s").Allowlist);
    }

    [Fact]
    public void AssigningAHeldSliceAgainReplacesItsAllowlistOnly()
    {
        _registry.Assign(Slice("s", Allow(A)));
        AcceleratorSlice held = _registry.Get("s");

        _registry.Assign(Slice("s", Allow(B.ToUpperInvariant())));

        Assert.Same(held, _registry.Get("s"));
        Assert.False(held.Allows(A));
        Assert.True(held.Allows(B));
        Assert.Equal([B.ToUpperInvariant()], held.Assignment.Allowlist.Sha256);
    }

    [Fact]
    public void AnAssignmentOfAnotherSliceTypeLeavesAHeldSliceAsItWas()
    {
        _registry.Assign(Slice("s", Allow(A)));

        SliceAssignment other = Slice("s", Allow(B));
        other.SliceType = "other";
        _registry.Assign(other);

        Assert.True(_registry.Get("s").Allows(A));
        Assert.False(_registry.Get("s").Allows(B));
    }

    [Fact]
    public void AHeartbeatListOlderThanADirectChangeDoesNotPutTheOldAllowlistBack()
    {
        _registry.Assign(Slice("s", Allow(A)));
        long asked = _registry.ReconcileMark();
        _registry.Assign(Slice("s", Allow(B)));

        // Computed before the broker booked the change: it still carries A.
        _registry.Reconcile([Slice("s", Allow(A))], asked);
        Assert.True(_registry.Get("s").Allows(B));
        Assert.False(_registry.Get("s").Allows(A));

        // A list asked for after the change settles it.
        _registry.Reconcile([Slice("s", null)], _registry.ReconcileMark());
        Assert.Null(_registry.Get("s").Allowlist);
    }

    private static ModelAllowlist Allow(params string[] hashes)
    {
        var allowlist = new ModelAllowlist();
        allowlist.Sha256.AddRange(hashes);
        return allowlist;
    }

    private static SliceAssignment Slice(string id, ModelAllowlist? allowlist) =>
        new() { SliceId = id, SliceType = "t", MemoryBytes = 1_000, ComputeShare = 0.25, Host = "h", Allowlist = allowlist };
}
