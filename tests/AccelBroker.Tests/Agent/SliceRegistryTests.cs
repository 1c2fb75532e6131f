using AccelBroker.Agent.Execution;
using AccelBroker.Agent.Slices;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>What the slice registry tells others about slices, and the ids it refuses.</summary>
public sealed class SliceRegistryTests
{
    private readonly SliceRegistry _registry = new(NullLogger<SliceRegistry>.Instance);

    [Fact]
    public void EachReleaseIsToldOnceWhetherByTheBrokerOrByReconciling()
    {
        var released = new List<string>();
        _registry.Released += released.Add;
        _registry.Reconcile([Assignment("acc-1"), Assignment("acc-2")]);

        Assert.True(_registry.Release("acc-1"));
        Assert.False(_registry.Release("acc-1"));
        _registry.Reconcile([]);

        Assert.Equal(["acc-1", "acc-2"], released);
    }

    [Fact]
    public void TheLocalBenchmarksComputeTenantIsNotASliceId()
    {
        RpcException error = Assert.Throws<RpcException>(() => _registry.Assign(Assignment(LocalBenchmark.ComputeTenant)));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Empty(_registry.All);
    }

    private static SliceAssignment Assignment(string id) =>
        new() { SliceId = id, SliceType = "t", MemoryBytes = 1, ComputeShare = 0.25, Host = "h" };
}
