using AccelBroker.Cli.Infrastructure;
using AccelBroker.Protocol.V1;
using Xunit;

namespace AccelBroker.Tests.Cli;

/// <summary>
/// The CLI prints protocol v1's health and cost-basis enums as the strings the wire carried before, so tables and
/// <c>--json</c> output stay exactly as operators script against them.
/// </summary>
public sealed class ContractWordsTests
{
    [Theory]
    [InlineData(AgentHealth.Healthy, "healthy")]
    [InlineData(AgentHealth.Unhealthy, "unhealthy")]
    [InlineData(AgentHealth.Unspecified, "")]
    public void HealthIsPrintedAsBefore(AgentHealth health, string printed) =>
        Assert.Equal(printed, ContractWords.Health(health));

    [Theory]
    [InlineData(CostBasis.EndToEnd, "end_to_end")]
    [InlineData(CostBasis.Agent, "agent")]
    [InlineData(CostBasis.None, "none")]
    [InlineData(CostBasis.Unspecified, "")]
    public void CostBasisIsPrintedAsBefore(CostBasis basis, string printed) =>
        Assert.Equal(printed, ContractWords.CostBasis(basis));
}
