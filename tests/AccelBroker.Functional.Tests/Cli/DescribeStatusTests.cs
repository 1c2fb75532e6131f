using AccelBroker.Cli.Commands;
using AccelBroker.Cli.Infrastructure;
using AccelBroker.Protocol.V1;
using Xunit;

namespace AccelBroker.Tests.Cli;

/// <summary>describe-agents and describe-accelerators say why for every status that is not healthy or ready.</summary>
public sealed class DescribeStatusTests
{
    [Fact]
    public void AHealthyAgentShowsNoReason()
    {
        Assert.Equal("healthy", StatusText.Agent(new AgentDescription { Health = AgentHealth.Healthy }));
    }

    [Fact]
    public void AnUnhealthyAgentShowsItsReason()
    {
        var agent = new AgentDescription { Health = AgentHealth.Unhealthy, HealthReason = "no heartbeat for 9 s (limit 6 s)" };

        Assert.Equal("unhealthy: no heartbeat for 9 s (limit 6 s)", StatusText.Agent(agent));
    }

    [Fact]
    public void ACordonedAgentSaysSo()
    {
        Assert.Equal("healthy, cordoned", StatusText.Agent(new AgentDescription { Health = AgentHealth.Healthy, Cordoned = true }));
    }

    [Theory]
    [InlineData(AcceleratorState.Ready, "", "ready")]
    [InlineData(AcceleratorState.Recovering, "agent agent-1 silent for 14 s", "recovering: agent agent-1 silent for 14 s")]
    [InlineData(AcceleratorState.Impaired, "no healthy agent has room for eia2.large", "impaired: no healthy agent has room for eia2.large")]
    [InlineData(AcceleratorState.Unspecified, "", "")]
    public void AnAcceleratorShowsItsStateWithTheReason(AcceleratorState state, string reason, string shown)
    {
        Assert.Equal(shown, StatusText.Accelerator(new Accelerator { State = state, StateReason = reason }));
    }

    [Fact]
    public void AcceleratorJsonCarriesStateReasonAndEpoch()
    {
        var accelerator = new Accelerator { Id = "acc-1", State = AcceleratorState.Impaired, StateReason = "no room", Epoch = 3, Health = AgentHealth.Unhealthy };

        AcceleratorJson json = AcceleratorJson.From(accelerator);

        Assert.Equal("impaired", json.State);
        Assert.Equal("no room", json.StateReason);
        Assert.Equal(3, json.Epoch);
        Assert.Equal("unhealthy", json.Status);
    }
}
