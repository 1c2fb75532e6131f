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

    [Fact]
    public void MeasuringNeverReadsTheWeights()
    {
        // crash_on_run declares 2^26 floats over a 16-byte record: reading them would fault, counting must not.
        using torch.jit.ScriptModule module = torch.jit.load(Fixtures.Path("hazards/crash_on_run.pt"));

        Assert.True(ModelFootprint.ParameterAndBufferBytes(module) >= (1L << 26) * 4);
    }
}
