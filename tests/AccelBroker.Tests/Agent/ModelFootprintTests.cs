using AccelBroker.Agent.Execution;
using AccelBroker.Tests.Infrastructure;
using TorchSharp;
using Xunit;

namespace AccelBroker.Tests.Agent;

public sealed class ModelFootprintTests
{
    [Fact]
    public void ParametersAreCountedFromTheArchitecture()
    {
        using torch.jit.ScriptModule module = torch.jit.load(Fixtures.Path("demo_mlp.pt"));

        // Linear(16, 64) and Linear(64, 8), float32: (16·64 + 64 + 64·8 + 8) · 4 bytes.
        Assert.Equal((16 * 64 + 64 + 64 * 8 + 8) * 4, ModelFootprint.ParameterAndBufferBytes(module));
    }

    [Fact]
    public void HalfPrecisionHalvesTheCharge()
    {
        using torch.jit.ScriptModule module = torch.jit.load(Fixtures.Path("demo_mlp.pt"));
        module.half();

        Assert.Equal((16 * 64 + 64 + 64 * 8 + 8) * 2, ModelFootprint.ParameterAndBufferBytes(module));
    }
}
