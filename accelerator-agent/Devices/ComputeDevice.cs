using TorchSharp;

namespace AccelBroker.Agent.Devices;

/// <summary>The device that really executes this agent's models.</summary>
internal sealed record ComputeDevice(string Kind, int Index, string Name, long TotalMemoryBytes)
{
    public bool IsCuda => Kind == "cuda";

    /// <summary>"cpu" or "cuda:0", as reported to clients.</summary>
    public string Label => IsCuda ? $"cuda:{Index}" : "cpu";

    public DeviceType DeviceType => IsCuda ? DeviceType.CUDA : DeviceType.CPU;

    public torch.Device TorchDevice => IsCuda ? torch.device(DeviceType.CUDA, Index) : torch.CPU;
}
