using System.Runtime.InteropServices;
using System.Text;

namespace AccelBroker.Agent.Devices;

/// <summary>
/// Device name and memory through NVML: TorchSharp 0.107 has no CUDA memory API.
/// Loaded only when a CUDA device is requested, so the CPU build never needs the driver.
/// </summary>
internal static partial class Nvml
{
    private const string Library = "libnvidia-ml.so.1";

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryInfo
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }

    public static (string Name, long TotalBytes)? TryGetDevice(int index)
    {
        try
        {
            if (nvmlInit_v2() != 0)
            {
                return null;
            }

            try
            {
                if (nvmlDeviceGetHandleByIndex_v2((uint)index, out IntPtr device) != 0)
                {
                    return null;
                }

                byte[] name = new byte[96];
                string deviceName = nvmlDeviceGetName(device, name, (uint)name.Length) == 0
                    ? Encoding.ASCII.GetString(name, 0, Math.Max(0, Array.IndexOf(name, (byte)0)))
                    : $"CUDA device {index}";
                long total = nvmlDeviceGetMemoryInfo(device, out MemoryInfo memory) == 0 ? (long)memory.Total : 0;
                return (deviceName, total);
            }
            finally
            {
                _ = nvmlShutdown();
            }
        }
        catch (DllNotFoundException)
        {
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Free and total device memory in bytes, or null without NVML.</summary>
    public static (long Free, long Total)? TryGetMemory(int index)
    {
        try
        {
            if (nvmlInit_v2() != 0)
            {
                return null;
            }

            try
            {
                return nvmlDeviceGetHandleByIndex_v2((uint)index, out IntPtr device) == 0
                    && nvmlDeviceGetMemoryInfo(device, out MemoryInfo memory) == 0
                    ? ((long)memory.Free, (long)memory.Total)
                    : null;
            }
            finally
            {
                _ = nvmlShutdown();
            }
        }
        catch (DllNotFoundException)
        {
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport(Library)]
    private static partial int nvmlInit_v2();

    [LibraryImport(Library)]
    private static partial int nvmlShutdown();

    [LibraryImport(Library)]
    private static partial int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);

    [LibraryImport(Library)]
    private static partial int nvmlDeviceGetName(IntPtr device, [Out] byte[] name, uint length);

    [LibraryImport(Library)]
    private static partial int nvmlDeviceGetMemoryInfo(IntPtr device, out MemoryInfo memory);
}
