using AccelBroker.Agent.Isolation;

namespace AccelBroker.Agent.Devices;

/// <summary>
/// Measures the memory a model load and warm-up takes on the device. CUDA: device memory in use before and
/// after, read through NVML (TorchSharp 0.107 has no CUDA memory API); libtorch's caching allocator keeps
/// what the warm-up needed, so the difference is what the model holds. CPU: the process's peak resident
/// memory during the warm-up above its resident memory before it (Linux /proc; the peak is reset first), an
/// estimate of the activations a forward pass needs on top of the parameters. It runs in a slice's worker
/// process, so only that slice's own work counts; loads are serialized per agent, so each figure belongs to one
/// model (on CUDA the device is shared, and other slices' runs can still inflate the figure a little).
/// </summary>
internal sealed class DeviceMemoryProbe(ComputeDevice device)
{
    private const string ClearRefsPath = "/proc/self/clear_refs";

    /// <summary>Starts a measurement: the baseline to pass to <see cref="GrowthSince"/>.</summary>
    public long Begin()
    {
        if (device.IsCuda)
        {
            return Nvml.TryGetMemory(device.Index) is { } memory ? memory.Total - memory.Free : 0;
        }

        TryResetPeak();
        return ProcStatus.Read(Environment.ProcessId, "VmRSS:") ?? 0;
    }

    /// <summary>Bytes the device gained since <paramref name="baseline"/>: at peak on CPU, still held on CUDA; never negative.</summary>
    public long GrowthSince(long baseline)
    {
        long? now = device.IsCuda
            ? Nvml.TryGetMemory(device.Index) is { } memory ? memory.Total - memory.Free : null
            : ProcStatus.Read(Environment.ProcessId, "VmHWM:");
        return now is { } value ? Math.Max(0, value - baseline) : 0;
    }

    private static void TryResetPeak()
    {
        try
        {
            // "5" resets the peak resident set size (VmHWM) of this process (Linux 4.0+).
            File.WriteAllText(ClearRefsPath, "5");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
