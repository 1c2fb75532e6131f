using AccelBroker.Agent;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>Secure by default: an agent does not serve plaintext beyond loopback unless told to.</summary>
public sealed class AgentExposureTests
{
    [Theory]
    [InlineData("http://0.0.0.0:7001")]
    [InlineData("http://10.1.2.3:7001")]
    [InlineData("http://gpu-host-1:7001")]
    public void PlaintextBeyondLoopbackRefusesToStartAndNamesTheFlags(string listen)
    {
        ArgumentException refused = Assert.Throws<ArgumentException>(() => AgentHost.Build(new AgentOptions { Listen = listen, Device = "cpu" }));
        Assert.Contains("--tls-cert", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--insecure", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InsecureIsASwitchOfTheCommandLine() =>
        Assert.True(Program.Parse(["--listen", "http://0.0.0.0:7001", "--insecure"])!.Insecure);
}
