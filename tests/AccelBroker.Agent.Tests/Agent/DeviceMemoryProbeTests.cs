using AccelBroker.Agent.Devices;
using TorchSharp;
using Xunit;

namespace AccelBroker.Tests.Agent;

public sealed class DeviceMemoryProbeTests
{
    [Fact]
    public void OnCpuThePeakOfAWarmUpIsSeenAfterItsMemoryIsFreed()
    {
        var probe = new DeviceMemoryProbe(new ComputeDevice("cpu", 0, "cpu", 0));
        long baseline = probe.Begin();

        using (torch.Tensor activations = torch.ones(16 * 1024 * 1024, torch.ScalarType.Float32))
        {
            Assert.Equal(16 * 1024 * 1024, activations.sum().item<float>());
        }

        Assert.InRange(probe.GrowthSince(baseline), 60L * 1024 * 1024, 4L * 1024 * 1024 * 1024);
    }
}
