using AccelBroker.Broker;
using AccelBroker.Protocol.V1;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;
using BrokerClient = AccelBroker.Protocol.V1.Broker.BrokerClient;
using Microsoft.Extensions.Time.Testing;

namespace AccelBroker.Tests.Broker;

/// <summary>The broker over real gRPC: a broker from BrokerHost.Build and fake agents, each on 127.0.0.1:0.</summary>
public sealed class BrokerServiceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long Gib = 1L << 30;

    private BrokerTestHost _broker = null!;
    private FakeAgent _agent = null!;

    private BrokerClient Broker => _broker.Client;

    public async Task InitializeAsync()
    {
        _broker = await BrokerTestHost.StartAsync(output);
        _agent = await FakeAgent.StartAsync(output);
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _agent.DisposeAsync();
    }

    [Fact]
    public void BoundAddressIsReadableAfterStart()
    {
        Assert.Matches(@"^http://127\.0\.0\.1:[1-9][0-9]*$", _broker.Address);
    }

    [Fact]
    public async Task ListSliceTypesReturnsTheCatalogue()
    {
        ListSliceTypesResponse response = await Broker.ListSliceTypesAsync(new ListSliceTypesRequest());

        Assert.Equal(["eia2.medium", "eia2.large", "eia2.xlarge"], response.SliceTypes.Select(t => t.Name));
        SliceType medium = response.SliceTypes[0];
        Assert.Equal(2 * Gib, medium.MemoryBytes);
        Assert.Equal(0.125, medium.ComputeShare);
        Assert.Equal(0.12, medium.PricePerHour);
        Assert.Equal(1, medium.Fp32Tflops);
        Assert.Equal(8, medium.Fp16Tflops);
    }

    [Fact]
    public async Task RegisterAgentAssignsAnIdAndTellsTheHeartbeatInterval()
    {
        RegisterAgentResponse response = await _agent.RegisterAsync(Broker);

        Assert.Matches("^agent-[0-9a-f]{12}$", response.AgentId);
        Assert.Equal(TimeSpan.FromSeconds(2), response.HeartbeatInterval.ToTimeSpan());
        Assert.Empty(response.Slices);

        DescribeAgentsResponse agents = await Broker.DescribeAgentsAsync(new DescribeAgentsRequest());
        AgentDescription agent = Assert.Single(agents.Agents);
        Assert.Equal(response.AgentId, agent.AgentId);
        Assert.Equal(_agent.Address, agent.Address);
        Assert.Equal(AgentHealth.Healthy, agent.Health);
        Assert.Equal("cpu", agent.Device.Kind);
        Assert.Equal("c5.large", agent.InstanceType);
        Assert.Equal("test", agent.Version);
        Assert.Equal(16 * Gib, agent.Capacity.MemoryBytes);
        Assert.Equal(0, agent.Allocated.MemoryBytes);
        Assert.NotNull(agent.LastHeartbeat);
    }

    [Theory]
    [InlineData("address", "localhost:7001", "address 'localhost:7001' is not an absolute http or https URI")]
    [InlineData("device", "tpu", "device kind 'tpu' is not supported")]
    [InlineData("memory", "0", "capacity memory_bytes must be greater than 0")]
    [InlineData("compute", "1.25", "capacity compute must be greater than 0 and at most 1")]
    [InlineData("no-capacity", "", "capacity is required")]
    [InlineData("metrics_address", "metrics:9464", "metrics_address 'metrics:9464' is not an absolute http or https URI")]
    public async Task InvalidRegistrationIsInvalidArgument(string field, string value, string message)
    {
        RegisterAgentRequest request = AgentRegistryTests.Apply(AgentRegistryTests.Request(address: _agent.Address), field, value);

        RpcException ex = await Assert.ThrowsAsync<RpcException>(() => Broker.RegisterAgentAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(message, ex.Status.Detail, StringComparison.Ordinal);
        Assert.Empty((await Broker.DescribeAgentsAsync(new DescribeAgentsRequest())).Agents);
    }

    [Fact]
    public async Task HeartbeatFromAnUnknownAgentIsNotFound()
    {
        RpcException ex = await Assert.ThrowsAsync<RpcException>(
            () => Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = "agent-000000000000" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("unknown agent 'agent-000000000000'; register again", ex.Status.Detail);
    }

    [Fact]
    public async Task AttachDescribeResolveDetachAndOrdinalReuse()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;

        Accelerator first = await AttachAsync("host-a", "eia2.medium", "c5.large");
        Accelerator second = await AttachAsync("host-a", "eia2.large");
        Accelerator third = await AttachAsync("host-a", "eia2.medium");
        Accelerator other = await AttachAsync("host-b", "eia2.medium");

        Assert.Matches("^acc-[0-9a-f]{32}$", first.Id);
        Assert.Equal([0, 1, 2, 0], new[] { first, second, third, other }.Select(a => a.Ordinal));
        Assert.Equal("host-a", first.Host);
        Assert.Equal("eia2.medium", first.SliceType);
        Assert.Equal("c5.large", first.HostType);
        Assert.Equal(agentId, first.AgentId);
        Assert.Equal(_agent.Address, first.AgentAddress);
        Assert.Equal("cpu", first.Device.Kind);
        Assert.Equal(2 * Gib, first.MemoryBytes);
        Assert.Equal(0.125, first.ComputeShare);
        Assert.Equal(AgentHealth.Healthy, first.Health);
        Assert.True((DateTimeOffset.UtcNow - first.AttachedAt.ToDateTimeOffset()).Duration() < TimeSpan.FromMinutes(1));

        // The agent was told exactly what to create.
        SliceAssignment assigned = _agent.Control.Slices[second.Id];
        Assert.Equal(new SliceAssignment { SliceId = second.Id, SliceType = "eia2.large", MemoryBytes = 4 * Gib, ComputeShare = 0.25, Host = "host-a", Ordinal = 1, Epoch = 1 }, assigned);

        DescribeAcceleratorsResponse described = await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "host-a" });
        Assert.Equal("host-a", described.Host);
        Assert.Equal([first.Id, second.Id, third.Id], described.Accelerators.Select(a => a.Id));
        Assert.Equal(first, described.Accelerators[0]);
        Assert.NotNull(described.Time);

        ResolveAcceleratorResponse resolved = await Broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "host-a", Ordinal = 1 });
        Assert.Equal(second, resolved.Accelerator);

        DetachResponse detached = await Broker.DetachAsync(new DetachRequest { Host = "host-a", Ordinal = 1 });
        Assert.Equal(second, detached.Accelerator);
        Assert.Equal([second.Id], _agent.Control.Released);
        Assert.False(_agent.Control.Slices.ContainsKey(second.Id));
        Assert.Equal([0, 2], (await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "host-a" })).Accelerators.Select(a => a.Ordinal));

        Accelerator reused = await AttachAsync("host-a", "eia2.xlarge");
        Assert.Equal(1, reused.Ordinal);
        Assert.NotEqual(second.Id, reused.Id);
        Assert.Equal(3, (await AttachAsync("host-a", "eia2.medium")).Ordinal);
    }

    [Fact]
    public async Task DescribeAgentsSumsWhatItsSlicesReserve()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;
        Accelerator medium = await AttachAsync("host-a", "eia2.medium");
        Accelerator xlarge = await AttachAsync("host-b", "eia2.xlarge");

        AgentDescription agent = Assert.Single((await Broker.DescribeAgentsAsync(new DescribeAgentsRequest())).Agents);

        Assert.Equal(agentId, agent.AgentId);
        Assert.Equal(10 * Gib, agent.Allocated.MemoryBytes);
        Assert.Equal(0.625, agent.Allocated.Compute, 9);
        Assert.Equal([medium.Id, xlarge.Id], agent.Accelerators.Select(a => a.Id));
    }

    [Fact]
    public async Task HeartbeatAndReregistrationReturnTheAgentsSlices()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;
        Accelerator attached = await AttachAsync("host-a", "eia2.medium");

        HeartbeatResponse heartbeat = await Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = agentId });
        Assert.Equal([attached.Id], heartbeat.Slices.Select(s => s.SliceId));
        Assert.Equal("host-a", heartbeat.Slices[0].Host);

        RegisterAgentResponse again = await _agent.RegisterAsync(Broker, agentId: agentId);
        Assert.Equal(agentId, again.AgentId);
        Assert.Equal([attached.Id], again.Slices.Select(s => s.SliceId));
        Assert.Single((await Broker.DescribeAgentsAsync(new DescribeAgentsRequest())).Agents);
    }

    [Theory]
    [InlineData("", "eia2.medium", "host must not be empty")]
    [InlineData("  ", "eia2.medium", "host must not be empty")]
    [InlineData("host-a", "p3.2xlarge", "unknown slice type 'p3.2xlarge'; known: eia2.medium, eia2.large, eia2.xlarge")]
    [InlineData("host-a", "", "slice_type is required; known: eia2.medium, eia2.large, eia2.xlarge")]
    public async Task BadAttachIsInvalidArgument(string host, string sliceType, string message)
    {
        await _agent.RegisterAsync(Broker);

        RpcException ex = await Assert.ThrowsAsync<RpcException>(
            () => Broker.AttachAsync(new AttachRequest { Host = host, SliceType = sliceType }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(message, ex.Status.Detail);
        Assert.Empty(_agent.Control.Slices);
    }

    [Fact]
    public async Task AnUnknownHostTypeIsInvalidArgumentAndNothingIsAttached()
    {
        await _agent.RegisterAsync(Broker);

        RpcException ex = await Assert.ThrowsAsync<RpcException>(
            () => Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium", HostType = "c9.huge" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("unknown instance type 'c9.huge'; known: c5.large, m5.large,", ex.Status.Detail);
        Assert.Empty(_agent.Control.Slices);
        Assert.Empty((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "host-a" })).Accelerators);
        Assert.Equal("c5.large", (await Broker.AttachAsync(new AttachRequest { Host = "host-a", SliceType = "eia2.medium", HostType = "c5.large" })).Accelerator.HostType);
    }

    [Fact]
    public async Task ListPricesServesInstancePricesAndTheCataloguesSlicePrices()
    {
        ListPricesResponse prices = await Broker.ListPricesAsync(new ListPricesRequest());

        InstanceType g4dn = Assert.Single(prices.InstanceTypes, t => t.Name == "g4dn.xlarge");
        Assert.Equal(0.526, g4dn.PricePerHour);
        Assert.Equal("gpu", g4dn.Kind);
        Assert.Equal(0.12, Assert.Single(prices.SliceTypes, t => t.Name == "eia2.medium").PricePerHour);
    }

    [Fact]
    public async Task APricesFileOverridesTheCataloguesSlicePrices()
    {
        string catalog = Path.Combine(Path.GetTempPath(), $"accelbroker-catalog-{Guid.NewGuid():N}.json");
        string prices = Path.Combine(Path.GetTempPath(), $"accelbroker-prices-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(catalog, """{"slice_types":[{"name":"half","memory_mib":1024,"compute_share":0.5,"price_per_hour":0.5},{"name":"quarter","memory_mib":512,"compute_share":0.25,"price_per_hour":0.25}]}""");
        await File.WriteAllTextAsync(prices, """{"instance_types":[{"name":"edge.box","price_per_hour":0.01,"kind":"cpu"}],"slice_types":[{"name":"half","price_per_hour":0.4}]}""");
        try
        {
            await using BrokerTestHost broker = await BrokerTestHost.StartAsync(output, new BrokerOptions { CatalogPath = catalog, PricesPath = prices });

            ListPricesResponse listed = await broker.Client.ListPricesAsync(new ListPricesRequest());

            Assert.Equal(0.4, Assert.Single(listed.SliceTypes, t => t.Name == "half").PricePerHour);
            Assert.Equal(0.25, Assert.Single(listed.SliceTypes, t => t.Name == "quarter").PricePerHour);
            Assert.Equal(0.01, Assert.Single(listed.InstanceTypes, t => t.Name == "edge.box").PricePerHour);
            Assert.Contains(listed.InstanceTypes, t => t.Name == "c5.large");
        }
        finally
        {
            File.Delete(catalog);
            File.Delete(prices);
        }
    }

    [Fact]
    public async Task AnInvalidPricesFileFailsBuild()
    {
        string path = Path.Combine(Path.GetTempPath(), $"accelbroker-prices-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """{"instance_types":[{"name":"x","price_per_hour":1,"kind":"fpga"}]}""");
        try
        {
            var ex = Assert.Throws<BrokerConfigurationException>(
                () => BrokerHost.Build(new BrokerOptions { Listen = "http://127.0.0.1:0", PricesPath = path }));
            Assert.Equal($"prices file '{path}': instance type #1 ('x'): kind must be \"cpu\" or \"gpu\", got 'fpga'", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task DetachOfNothingIsNotFoundNamingTheOrdinals()
    {
        await _agent.RegisterAsync(Broker);

        RpcException none = await Assert.ThrowsAsync<RpcException>(
            () => Broker.DetachAsync(new DetachRequest { Host = "h", Ordinal = 0 }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, none.StatusCode);
        Assert.Equal("host 'h' has no accelerators attached", none.Status.Detail);

        await AttachAsync("h", "eia2.medium");
        await AttachAsync("h", "eia2.medium");
        RpcException missing = await Assert.ThrowsAsync<RpcException>(
            () => Broker.DetachAsync(new DetachRequest { Host = "h", Ordinal = 3 }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Equal("host 'h' has no accelerator at ordinal 3; attached ordinals: 0, 1", missing.Status.Detail);
        Assert.Equal(2, (await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators.Count);
    }

    [Fact]
    public async Task ResolveOfNothingIsNotFoundNamingTheOrdinals()
    {
        await _agent.RegisterAsync(Broker);
        await AttachAsync("h", "eia2.medium");

        RpcException ex = await Assert.ThrowsAsync<RpcException>(
            () => Broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "h", Ordinal = 1 }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("host 'h' has no accelerator at ordinal 1; attached ordinals: 0", ex.Status.Detail);
    }

    [Fact]
    public async Task EmptyHostOrNegativeOrdinalIsInvalidArgumentEverywhere()
    {
        await AssertInvalid(() => Broker.DetachAsync(new DetachRequest { Host = "" }).ResponseAsync, "host must not be empty");
        await AssertInvalid(() => Broker.DetachAsync(new DetachRequest { Host = "h", Ordinal = -1 }).ResponseAsync, "ordinal must be 0 or greater (got -1)");
        await AssertInvalid(() => Broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "" }).ResponseAsync, "host must not be empty");
        await AssertInvalid(() => Broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "h", Ordinal = -2 }).ResponseAsync, "ordinal must be 0 or greater (got -2)");
        await AssertInvalid(() => Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "" }).ResponseAsync, "host must not be empty");
        await AssertInvalid(() => Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = new string('h', 256) }).ResponseAsync, "host must be at most 255 characters");

        static async Task AssertInvalid(Func<Task> call, string message)
        {
            RpcException ex = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.Contains(message, ex.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DescribeOfAHostWithNothingAttachedIsEmpty()
    {
        DescribeAcceleratorsResponse response = await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "nobody" });

        Assert.Equal("nobody", response.Host);
        Assert.Empty(response.Accelerators);
    }

    [Fact]
    public async Task AttachWithoutAgentsIsResourceExhausted()
    {
        RpcException ex = await Assert.ThrowsAsync<RpcException>(
            () => Broker.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal("no healthy agent has room for a eia2.medium slice (needs 2048 MiB memory and 0.125 compute); no healthy agents", ex.Status.Detail);
    }

    [Fact]
    public async Task EightMediumsFillAnAgentAndTheNinthIsResourceExhausted()
    {
        string agentId = (await _agent.RegisterAsync(Broker, memoryBytes: 32 * Gib, compute: 1.0)).AgentId;
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(i, (await AttachAsync("h", "eia2.medium")).Ordinal);
        }

        RpcException ex = await Assert.ThrowsAsync<RpcException>(
            () => Broker.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal(
            $"no healthy agent has room for a eia2.medium slice (needs 2048 MiB memory and 0.125 compute); best free capacity: 16384 MiB memory and 0 compute on {agentId} (1 healthy agent)",
            ex.Status.Detail);
        Assert.Equal(8, _agent.Control.Slices.Count);

        // Detaching one makes room again, at the freed ordinal.
        await Broker.DetachAsync(new DetachRequest { Host = "h", Ordinal = 5 });
        Assert.Equal(5, (await AttachAsync("h", "eia2.medium")).Ordinal);
    }

    [Fact]
    public async Task ConcurrentAttachesNeverShareOrdinalsOrCapacity()
    {
        await _agent.RegisterAsync(Broker, memoryBytes: 64 * Gib, compute: 1.0);

        Task<AttachResponse>[] calls = [.. Enumerable.Range(0, 12).Select(_ => Broker.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" }).ResponseAsync)];
        await Task.WhenAll(calls.Select(c => c.ContinueWith(_ => { }, TaskScheduler.Default)));

        Accelerator[] attached = [.. calls.Where(c => c.IsCompletedSuccessfully).Select(c => c.Result.Accelerator)];
        Assert.Equal(Enumerable.Range(0, 8), attached.Select(a => a.Ordinal).Order());
        Assert.All(
            calls.Where(c => !c.IsCompletedSuccessfully),
            c => Assert.Equal(StatusCode.ResourceExhausted, Assert.IsType<RpcException>(c.Exception!.InnerException).StatusCode));
        Assert.Equal(8, _agent.Control.Slices.Count);
    }

    [Fact]
    public async Task UnreachableAgentIsUnavailableAndNothingIsRecorded()
    {
        string deadId = (await FakeAgent.RegisterAt(Broker, "http://127.0.0.1:1")).AgentId;

        RpcException ex = await Assert.ThrowsAsync<RpcException>(
            () => Broker.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.StartsWith($"agent {deadId} at http://127.0.0.1:1 did not accept the slice: Unavailable", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Empty((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators);
        AgentDescription dead = Assert.Single((await Broker.DescribeAgentsAsync(new DescribeAgentsRequest())).Agents);
        Assert.Equal(0, dead.Allocated.MemoryBytes);
        Assert.Empty(dead.Accelerators);
        Assert.Empty((await Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = deadId })).Slices);

        // The broker keeps serving: the dead agent is re-registered at a live address and the attach takes ordinal 0.
        await _agent.RegisterAsync(Broker, agentId: deadId);
        Accelerator attached = await AttachAsync("h", "eia2.medium");
        Assert.Equal(0, attached.Ordinal);
        Assert.Equal(_agent.Address, attached.AgentAddress);
    }

    [Fact]
    public async Task AgentThatRefusesTheSliceIsUnavailableWithItsReason()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;
        _agent.Control.BeforeAssign = _ => throw new RpcException(new Status(StatusCode.FailedPrecondition, "device busy"));

        RpcException ex = await Assert.ThrowsAsync<RpcException>(
            () => Broker.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.large" }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal($"agent {agentId} at {_agent.Address} did not accept the slice: FailedPrecondition: device busy", ex.Status.Detail);
        Assert.Empty((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators);

        _agent.Control.BeforeAssign = null;
        Assert.Equal(0, (await AttachAsync("h", "eia2.large")).Ordinal);
    }

    [Fact]
    public async Task SlowAgentHitsTheDeadline()
    {
        await using BrokerTestHost broker = await BrokerTestHost.StartAsync(output, new BrokerOptions { AgentCallTimeout = TimeSpan.FromMilliseconds(200) });
        await _agent.RegisterAsync(broker.Client);
        _agent.Control.BeforeAssign = _ => Task.Delay(TimeSpan.FromSeconds(5));

        RpcException ex = await Assert.ThrowsAsync<RpcException>(
            () => broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.EndsWith("did not accept the slice: DeadlineExceeded: no answer within 0.2 s", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Empty((await broker.Client.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators);
    }

    [Fact]
    public async Task DetachSucceedsWhenTheAgentCannotRelease()
    {
        await _agent.RegisterAsync(Broker);
        Accelerator attached = await AttachAsync("h", "eia2.medium");
        _agent.Control.BeforeRelease = _ => throw new RpcException(new Status(StatusCode.Internal, "boom"));

        DetachResponse detached = await Broker.DetachAsync(new DetachRequest { Host = "h", Ordinal = 0 });

        Assert.Equal(attached.Id, detached.Accelerator.Id);
        Assert.Empty((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators);
    }

    [Fact]
    public async Task ASliceBeingAssignedIsInHeartbeatsButNotShownUntilAccepted()
    {
        string agentId = (await _agent.RegisterAsync(Broker)).AgentId;
        var assigning = new TaskCompletionSource<SliceAssignment>(TaskCreationOptions.RunContinuationsAsynchronously);
        var accept = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _agent.Control.BeforeAssign = async slice =>
        {
            assigning.SetResult(slice);
            await accept.Task;
        };

        Task<AttachResponse> attach = Broker.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" }).ResponseAsync;
        SliceAssignment pending = await assigning.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Reconciliation must not make the agent drop a slice that is being assigned.
        HeartbeatResponse heartbeat = await Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = agentId });
        Assert.Equal([pending.SliceId], heartbeat.Slices.Select(s => s.SliceId));
        Assert.Empty((await Broker.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators);
        await Assert.ThrowsAsync<RpcException>(() => Broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "h" }).ResponseAsync);

        accept.SetResult();
        Accelerator attached = (await attach).Accelerator;

        Assert.Equal(pending.SliceId, attached.Id);
        Assert.Equal(attached, (await Broker.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "h" })).Accelerator);
    }

    [Fact]
    public async Task ServerKeepsServingAfterErrors()
    {
        for (int i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<RpcException>(() => Broker.AttachAsync(new AttachRequest { Host = "", SliceType = "x" }).ResponseAsync);
            await Assert.ThrowsAsync<RpcException>(() => Broker.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" }).ResponseAsync);
            await Assert.ThrowsAsync<RpcException>(() => Broker.DetachAsync(new DetachRequest { Host = "h", Ordinal = 9 }).ResponseAsync);
            await Assert.ThrowsAsync<RpcException>(() => Broker.HeartbeatAsync(new HeartbeatRequest { AgentId = "nobody" }).ResponseAsync);
            await Assert.ThrowsAsync<RpcException>(() => Broker.RegisterAgentAsync(new RegisterAgentRequest()).ResponseAsync);
        }

        await _agent.RegisterAsync(Broker);
        Assert.Equal(0, (await AttachAsync("h", "eia2.medium")).Ordinal);
        Assert.Equal(3, (await Broker.ListSliceTypesAsync(new ListSliceTypesRequest())).SliceTypes.Count);
    }

    [Fact]
    public async Task AgentsTurnUnhealthyWithoutHeartbeatsAndBackWithOne()
    {
        var time = new FakeTimeProvider();
        await using BrokerTestHost broker = await BrokerTestHost.StartAsync(output, time: time);
        string agentId = (await _agent.RegisterAsync(broker.Client)).AgentId;
        Accelerator attached = (await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" })).Accelerator;
        Assert.Equal(time.GetUtcNow(), attached.AttachedAt.ToDateTimeOffset());

        time.Advance(TimeSpan.FromSeconds(6) + TimeSpan.FromTicks(1));

        Assert.Equal(AgentHealth.Unhealthy, (await broker.Client.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "h" })).Accelerator.Health);
        Assert.Equal(AgentHealth.Unhealthy, (await broker.Client.DescribeAgentsAsync(new DescribeAgentsRequest())).Agents[0].Health);
        RpcException ex = await Assert.ThrowsAsync<RpcException>(
            () => broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.EndsWith("no healthy agents", ex.Status.Detail, StringComparison.Ordinal);

        await broker.Client.HeartbeatAsync(new HeartbeatRequest { AgentId = agentId });

        DescribeAcceleratorsResponse described = await broker.Client.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" });
        Assert.Equal(AgentHealth.Healthy, described.Accelerators[0].Health);
        Assert.Equal(time.GetUtcNow(), described.Time.ToDateTimeOffset());
        Assert.Equal(1, (await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" })).Accelerator.Ordinal);
    }

    [Fact]
    public async Task AttachmentsSurviveARestartWithADataDirectory()
    {
        string dataDir = Directory.CreateTempSubdirectory("accelbroker-data-").FullName;
        try
        {
            var options = new BrokerOptions { DataDir = dataDir };
            string agentId;
            Accelerator attached;
            await using (BrokerTestHost first = await BrokerTestHost.StartAsync(output, options))
            {
                agentId = (await _agent.RegisterAsync(first.Client)).AgentId;
                await first.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" });
                attached = (await first.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.xlarge", HostType = "m5.large" })).Accelerator;
                await first.Client.DetachAsync(new DetachRequest { Host = "h", Ordinal = 0 });
            }

            await using BrokerTestHost second = await BrokerTestHost.StartAsync(output, options);

            // The agent is known from the store: the attachment is kept at its address, healthy until the agent misses heartbeats.
            Accelerator restored = Assert.Single((await second.Client.DescribeAcceleratorsAsync(new DescribeAcceleratorsRequest { Host = "h" })).Accelerators);
            Assert.Equal(attached.Id, restored.Id);
            Assert.Equal(1, restored.Ordinal);
            Assert.Equal("m5.large", restored.HostType);
            Assert.Equal(_agent.Address, restored.AgentAddress);
            Assert.Equal(AgentHealth.Healthy, restored.Health);
            Assert.Equal(attached.AttachedAt, restored.AttachedAt);

            // Its next heartbeat is answered without a new registration.
            await second.Client.HeartbeatAsync(new HeartbeatRequest { AgentId = agentId });

            RegisterAgentResponse registered = await _agent.RegisterAsync(second.Client, agentId: agentId);
            Assert.Equal(agentId, registered.AgentId);
            Assert.Equal([attached.Id], registered.Slices.Select(s => s.SliceId));
            Assert.Equal(attached, (await second.Client.ResolveAcceleratorAsync(new ResolveAcceleratorRequest { Host = "h", Ordinal = 1 })).Accelerator);

            // Its capacity is still taken: ordinal 0 is free again, and 0.5 + 0.5 fills the agent.
            Assert.Equal(0, (await second.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.xlarge" })).Accelerator.Ordinal);
            RpcException full = await Assert.ThrowsAsync<RpcException>(
                () => second.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" }).ResponseAsync);
            Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task InvalidCatalogFailsBuild()
    {
        string path = Path.Combine(Path.GetTempPath(), $"accelbroker-catalog-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """{"slice_types":[{"name":"a","memory_mib":1,"compute_share":2,"price_per_hour":0}]}""");
        try
        {
            var ex = Assert.Throws<BrokerConfigurationException>(
                () => BrokerHost.Build(new BrokerOptions { Listen = "http://127.0.0.1:0", CatalogPath = path }));
            Assert.Equal($"catalog file '{path}': slice type #1 ('a'): compute_share must be greater than 0 and at most 1", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task CatalogFileReplacesTheSliceTypes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"accelbroker-catalog-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """{"slice_types":[{"name":"half","memory_mib":1024,"compute_share":0.5,"price_per_hour":0.5}]}""");
        try
        {
            await using BrokerTestHost broker = await BrokerTestHost.StartAsync(output, new BrokerOptions { CatalogPath = path });
            await _agent.RegisterAsync(broker.Client);

            Assert.Equal(["half"], (await broker.Client.ListSliceTypesAsync(new ListSliceTypesRequest())).SliceTypes.Select(t => t.Name));
            RpcException ex = await Assert.ThrowsAsync<RpcException>(
                () => broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "eia2.medium" }).ResponseAsync);
            Assert.Equal("unknown slice type 'eia2.medium'; known: half", ex.Status.Detail);
            Assert.Equal(1024L << 20, (await broker.Client.AttachAsync(new AttachRequest { Host = "h", SliceType = "half" })).Accelerator.MemoryBytes);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private async Task<Accelerator> AttachAsync(string host, string sliceType, string hostType = "") =>
        (await Broker.AttachAsync(new AttachRequest { Host = host, SliceType = sliceType, HostType = hostType })).Accelerator;
}
