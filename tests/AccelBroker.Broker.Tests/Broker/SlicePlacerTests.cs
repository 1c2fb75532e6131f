using AccelBroker.Broker.Catalog;
using AccelBroker.Broker.Placement;
using Xunit;

namespace AccelBroker.Tests.Broker;

public sealed class SlicePlacerTests
{
    private const long Gib = 1L << 30;

    private static readonly SliceTypeSpec s_medium = new("eia2.medium", 2 * Gib, 0.125, 0.12, 1, 8);
    private static readonly SliceTypeSpec s_xlarge = new("eia2.xlarge", 8 * Gib, 0.5, 0.34, 4, 32);

    private static AgentLoad Agent(string id, long memory = 16 * Gib, double compute = 1.0, long usedMemory = 0, double usedCompute = 0, bool healthy = true) =>
        new(id, healthy, memory, compute, usedMemory, usedCompute);

    [Fact]
    public void PlacesOnAnAgentWithRoom()
    {
        PlacementResult result = SlicePlacer.Place(s_medium, [Agent("agent-a")]);

        Assert.True(result.Placed);
        Assert.Equal("agent-a", result.AgentId);
        Assert.Null(result.Failure);
    }

    [Fact]
    public void ExactFitIsAccepted()
    {
        PlacementResult result = SlicePlacer.Place(s_xlarge, [Agent("agent-a", memory: 8 * Gib, compute: 0.5)]);

        Assert.Equal("agent-a", result.AgentId);
    }

    [Fact]
    public void NeverOversubscribesMemory()
    {
        PlacementResult result = SlicePlacer.Place(s_xlarge, [Agent("agent-a", memory: 16 * Gib, usedMemory: 8 * Gib + 1)]);

        Assert.False(result.Placed);
    }

    [Fact]
    public void NeverOversubscribesCompute()
    {
        PlacementResult result = SlicePlacer.Place(s_xlarge, [Agent("agent-a", compute: 1.0, usedCompute: 0.625)]);

        Assert.False(result.Placed);
    }

    [Fact]
    public void EightMediumsFillAWholeAgentAndTheNinthIsRefused()
    {
        AgentLoad agent = Agent("agent-a", memory: 64 * Gib, compute: 1.0);
        for (int i = 0; i < 8; i++)
        {
            PlacementResult placed = SlicePlacer.Place(s_medium, [agent]);
            Assert.Equal("agent-a", placed.AgentId);
            agent = agent with
            {
                AllocatedMemoryBytes = agent.AllocatedMemoryBytes + s_medium.MemoryBytes,
                AllocatedCompute = agent.AllocatedCompute + s_medium.ComputeShare,
            };
        }

        PlacementResult ninth = SlicePlacer.Place(s_medium, [agent]);

        Assert.False(ninth.Placed);
        Assert.Contains("best free capacity: 49152 MiB memory and 0 compute on agent-a", ninth.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void TenTenthsFillAWholeAgentDespiteRounding()
    {
        var tenth = new SliceTypeSpec("tenth", Gib, 0.1, 0.01, 0, 0);
        AgentLoad agent = Agent("agent-a", memory: 64 * Gib);
        int placed = 0;
        while (SlicePlacer.Place(tenth, [agent]).Placed)
        {
            placed++;
            agent = agent with { AllocatedMemoryBytes = agent.AllocatedMemoryBytes + Gib, AllocatedCompute = agent.AllocatedCompute + 0.1 };
            Assert.True(placed <= 10);
        }

        Assert.Equal(10, placed);
    }

    [Fact]
    public void SkipsUnhealthyAgents()
    {
        PlacementResult result = SlicePlacer.Place(s_medium, [Agent("agent-a", healthy: false), Agent("agent-b", compute: 0.25)]);

        Assert.Equal("agent-b", result.AgentId);
    }

    [Fact]
    public void NoHealthyAgentsIsSaidSo()
    {
        PlacementResult result = SlicePlacer.Place(s_medium, [Agent("agent-a", healthy: false)]);

        Assert.False(result.Placed);
        Assert.Equal(
            "no healthy agent has room for a eia2.medium slice (needs 2048 MiB memory and 0.125 compute); no healthy agents",
            result.Failure);
    }

    [Fact]
    public void EmptyFleetIsSaidSo()
    {
        PlacementResult result = SlicePlacer.Place(s_medium, []);

        Assert.Contains("no healthy agents", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusalNamesWhatWasNeededAndTheBestFreeCapacity()
    {
        PlacementResult result = SlicePlacer.Place(
            s_xlarge,
            [Agent("agent-a", memory: 4 * Gib, compute: 1.0), Agent("agent-b", memory: 16 * Gib, compute: 0.25), Agent("agent-c", healthy: false)]);

        Assert.Equal(
            "no healthy agent has room for a eia2.xlarge slice (needs 8192 MiB memory and 0.5 compute); best free capacity: 4096 MiB memory and 1 compute on agent-a (2 healthy agents)",
            result.Failure);
    }

    [Fact]
    public void ChoosesMostFreeComputeThenMostFreeMemoryThenLowestId()
    {
        Assert.Equal("agent-b", SlicePlacer.Place(s_medium, [Agent("agent-a", usedCompute: 0.5), Agent("agent-b", usedCompute: 0.25)]).AgentId);
        Assert.Equal("agent-b", SlicePlacer.Place(s_medium, [Agent("agent-a", memory: 8 * Gib), Agent("agent-b", memory: 12 * Gib)]).AgentId);
        Assert.Equal("agent-a", SlicePlacer.Place(s_medium, [Agent("agent-c"), Agent("agent-a"), Agent("agent-b")]).AgentId);
    }

    [Fact]
    public void ChoiceDoesNotDependOnOrder()
    {
        AgentLoad[] fleet = [Agent("agent-a", usedCompute: 0.125), Agent("agent-b", usedCompute: 0.125), Agent("agent-c", usedCompute: 0.375)];

        string? forward = SlicePlacer.Place(s_medium, fleet).AgentId;
        string? backward = SlicePlacer.Place(s_medium, fleet.Reverse()).AgentId;

        Assert.Equal("agent-a", forward);
        Assert.Equal(forward, backward);
    }

    [Fact]
    public void SumsThatDifferOnlyInTheLastBitsTieOnCompute()
    {
        // 0.1 + 0.2 is 0.30000000000000004: the agents have the same free compute, so free memory decides.
        AgentLoad a = Agent("agent-a", memory: 8 * Gib, usedCompute: 0.1 + 0.2);
        AgentLoad b = Agent("agent-b", memory: 12 * Gib, usedCompute: 0.3);

        Assert.Equal("agent-b", SlicePlacer.Place(s_medium, [a, b]).AgentId);
    }
}
