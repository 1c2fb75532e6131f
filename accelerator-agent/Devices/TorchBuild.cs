namespace AccelBroker.Agent.Devices;

/// <summary>Which TorchSharp backend this assembly was built against.</summary>
internal static class TorchBuild
{
#if TORCH_CUDA
    public const string Backend = "cuda";
#else
    public const string Backend = "cpu";
#endif
}
