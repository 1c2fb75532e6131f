using System.Globalization;
using TorchSharp;

namespace AccelBroker.Agent.Devices;

/// <summary>Turns --device into the device that will execute, refusing what this build or host cannot run.</summary>
internal static class DeviceProbe
{
    public static ComputeDevice Resolve(string device)
    {
        string spec = device.Trim().ToLowerInvariant();
        if (spec == "cpu")
        {
            return new ComputeDevice("cpu", 0, CpuName(), TotalRamBytes());
        }

        if (spec == "cuda" || spec.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (spec.Length > 5 && !int.TryParse(spec.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out index))
            {
                throw new ArgumentException($"invalid device '{device}': expected cpu or cuda:N");
            }

            // Never claim CUDA while running on CPU: the CPU build and GPU-less hosts are refused here.
            if (!torch.cuda.is_available())
            {
                throw new InvalidOperationException(
                    $"device '{device}' requested but CUDA is not available (this agent was built with TorchBackend={TorchBuild.Backend}; build with -p:TorchBackend=cuda on a host with an NVIDIA driver)");
            }

            int count = torch.cuda.device_count();
            if (index >= count)
            {
                throw new InvalidOperationException($"device '{device}' requested but only {count} CUDA device(s) are visible");
            }

            (string name, long total) = Nvml.TryGetDevice(index) ?? ($"CUDA device {index}", 0L);
            return new ComputeDevice("cuda", index, name, total);
        }

        throw new ArgumentException($"invalid device '{device}': expected cpu or cuda:N");
    }

    private static string CpuName()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static long TotalRamBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
}
