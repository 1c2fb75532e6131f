using AccelBroker.Client;
using AccelBroker.Client.Pricing;
using AccelBroker.Protocol.V1;
using AccelBroker.Tests.Infrastructure;
using Grpc.Core;
using Xunit;

namespace AccelBroker.Tests.Integration;

/// <summary>The public operator client against a real broker and agent: every call the accel CLI makes of the broker.</summary>
public sealed class FleetClientTests : IClassFixture<ClusterFixture>
{
    private readonly TestCluster _cluster;

    public FleetClientTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task ListsTheCatalogueAndPricesItsSliceTypesAsTheCatalogueDoes()
    {
        using FleetClient fleet = Fleet();

        IReadOnlyList<SliceType> types = await fleet.ListSliceTypesAsync();
        PriceCatalog prices = await fleet.GetPricesAsync();

        Assert.Equal(["eia2.medium", "eia2.large", "eia2.xlarge", TestCluster.TinySlice], types.Select(t => t.Name));
        Assert.Equal(16L * 1024 * 1024, types.Single(t => t.Name == TestCluster.TinySlice).MemoryBytes);
        Assert.Equal(0.001, prices.GetSlice(TestCluster.TinySlice).PricePerHour);
        Assert.Equal(0.085, prices.GetInstance("c5.large").PricePerHour);
    }

    [Fact]
    public async Task AttachResolveDescribeUsageAndDetachOneAccelerator()
    {
        using FleetClient fleet = Fleet();
        string host = NewHost();

        Accelerator attached = await fleet.AttachAsync(host, TestCluster.TinySlice, "c5.large");
        Accelerator resolved = await fleet.ResolveAcceleratorAsync(host, attached.Ordinal);
        DescribeAcceleratorsResponse described = await fleet.DescribeAcceleratorsAsync(host);
        GetUsageResponse usage = await fleet.GetUsageAsync(host, attached.Ordinal);
        IReadOnlyList<AgentDescription> agents = await fleet.DescribeAgentsAsync();
        Accelerator detached = await fleet.DetachAsync(host, attached.Ordinal);

        Assert.Equal(0, attached.Ordinal);
        Assert.Equal("c5.large", attached.HostType);
        Assert.Equal(attached.Id, resolved.Id);
        Assert.Equal(_cluster.AgentUrl, resolved.AgentAddress);
        Assert.Equal(host, described.Host);
        Assert.Equal(attached.Id, Assert.Single(described.Accelerators).Id);
        AcceleratorUsage used = Assert.Single(usage.Accelerators);
        Assert.Equal(attached.Id, used.Accelerator.Id);
        Assert.Equal(0.085 + 0.001, used.HostPricePerHour + used.SlicePricePerHour, 9);
        Assert.Contains(agents, a => a.Address == _cluster.AgentUrl && a.Accelerators.Any(s => s.Id == attached.Id));
        Assert.Equal(attached.Id, detached.Id);
        Assert.Empty((await fleet.DescribeAcceleratorsAsync(host)).Accelerators);
    }

    [Fact]
    public async Task AnUnknownSliceTypeIsInvalidArgumentListingTheKnownOnes()
    {
        using FleetClient fleet = Fleet();

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => fleet.AttachAsync(NewHost(), "eia9.huge"));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("unknown slice type 'eia9.huge'; known: eia2.medium, eia2.large, eia2.xlarge, test.tiny", error.Status.Detail);
    }

    [Fact]
    public async Task AnUnknownOrdinalIsNotFoundNamingTheHostsOrdinalsForEveryCallThatTakesOne()
    {
        using FleetClient fleet = Fleet();
        string host = NewHost();
        await fleet.AttachAsync(host, TestCluster.TinySlice);
        string expected = $"host '{host}' has no accelerator at ordinal 3; attached ordinals: 0";

        foreach (Func<Task> call in new Func<Task>[]
        {
            () => fleet.ResolveAcceleratorAsync(host, 3),
            () => fleet.OpenSliceAsync(host, 3),
            () => fleet.GetUsageAsync(host, 3),
            () => fleet.DetachAsync(host, 3),
        })
        {
            RpcException error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.NotFound, error.StatusCode);
            Assert.Equal(expected, error.Status.Detail);
        }

        await fleet.DetachAsync(host, 0);
    }

    [Fact]
    public async Task AnEmptyHostIsInvalidArgument()
    {
        using FleetClient fleet = Fleet();

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => fleet.DescribeAcceleratorsAsync(""));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("host must not be empty", error.Status.Detail);
    }

    [Fact]
    public async Task ABrokerThatIsDownIsUnavailableWithinTheCallsDeadline()
    {
        using FleetClient fleet = new(new FleetClientOptions { Broker = "http://127.0.0.1:1", CallTimeout = TimeSpan.FromSeconds(5) });
        var waited = System.Diagnostics.Stopwatch.StartNew();

        RpcException error = await Assert.ThrowsAsync<RpcException>(() => fleet.ListSliceTypesAsync());

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"took {waited.Elapsed}");
    }

    private FleetClient Fleet() => new(new FleetClientOptions { Broker = _cluster.BrokerUrl, ApiKey = _cluster.AdminKey });

    private static string NewHost() => "fleet-" + Guid.NewGuid().ToString("N")[..8];
}
