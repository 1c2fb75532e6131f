using AccelBroker.Agent.Devices;
using TorchSharp;

namespace AccelBroker.Agent.Health;

/// <summary>
/// A tiny tensor op on the device with a known answer: reading the result back synchronises with the device, so a
/// lost GPU, a broken driver or a wedged context fails here rather than in a client's run.
/// </summary>
internal sealed class TensorDeviceCheck : IDeviceCheck
{
    public void Run(ComputeDevice device)
    {
        using var scope = torch.NewDisposeScope();
        torch.Tensor ones = torch.ones(4, dtype: torch.float32, device: device.TorchDevice);
        float sum = (ones * 2).sum().cpu().item<float>();
        if (sum != 8f)
        {
            throw new InvalidOperationException($"2 x ones(4) summed to {sum}, not 8");
        }
    }
}
