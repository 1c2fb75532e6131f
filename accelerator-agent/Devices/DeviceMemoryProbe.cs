using System.Globalization;

namespace AccelBroker.Agent.Devices;

/// <summary>
/// Measures the memory a model load and warm-up takes on the device. CUDA: device memory in use before and
/// after, read through NVML (TorchSharp 0.107 has no CUDA memory API); libtorch's caching allocator keeps
/// what the warm-up needed, so the difference is what the model holds. CPU: the process's peak resident
/// memory during the warm-up above its resident memory before it (Linux /proc; the peak is reset first), an
/// estimate of the activations a forward pass needs on top of the parameters. Loads must be serialized for
/// the figures to belong to one model; runs on other slices can still inflate the CPU figure a little.
/// </summary>
internal sealed class DeviceMemoryProbe(ComputeDevice device)
{
    private const string StatusPath = "/proc/self/status";
    private const string ClearRefsPath = "/proc/self/clear_refs";

    /// <summary>Starts a measurement: the baseline to pass to <see cref="GrowthSince"/>.</summary>
    public long Begin()
    {
        if (device.IsCuda)
        {
            return Nvml.TryGetMemory(device.Index) is { } memory ? memory.Total - memory.Free : 0;
        }

        TryResetPeak();
        return ReadStatusBytes("VmRSS:") ?? 0;
    }

    /// <summary>Bytes the device gained since <paramref name="baseline"/>: at peak on CPU, still held on CUDA; never negative.</summary>
    public long GrowthSince(long baseline)
    {
        long? now = device.IsCuda
            ? Nvml.TryGetMemory(device.Index) is { } memory ? memory.Total - memory.Free : null
            : ReadStatusBytes("VmHWM:");
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

    private static long? ReadStatusBytes(string field)
    {
        try
        {
            foreach (string line in File.ReadLines(StatusPath))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    string kib = line[field.Length..].Trim().Split(' ')[0];
                    return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return null;
    }
}
