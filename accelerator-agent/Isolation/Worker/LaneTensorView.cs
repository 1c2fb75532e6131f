using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace AccelBroker.Agent.Isolation.Worker;

/// <summary>
/// A CPU tensor over bytes of an input lane, with no copy: libtorch's <c>from_blob</c> through the entry point
/// TorchSharp itself uses for pinned arrays. The lane's pages are mapped once and reused, so an input costs no
/// allocation and no first-touch page faults (a fresh 64 MiB tensor paid ~190 ms of them on these VMs).
/// </summary>
/// <remarks>
/// The view is valid while the lane's mapping is, which outlives every run on it: the worker maps a grown lane
/// before unmapping the old one, and only between runs. A model that keeps its input past the run reads the
/// next run's inputs of the same slice, the only tenant of this process.
/// </remarks>
internal static unsafe partial class LaneTensorView
{
    // The lane owns the memory: libtorch's deleter has nothing to free.
    private static readonly IntPtr NoDeleter = (IntPtr)(delegate* unmanaged[Cdecl]<IntPtr, void>)&Nothing;

    /// <summary>A tensor of <paramref name="type"/> and <paramref name="shape"/> over <paramref name="data"/>.</summary>
    public static torch.Tensor Create(torch.ScalarType type, long[] shape, Span<byte> data)
    {
        IntPtr handle;
        fixed (long* dimensions = shape)
        {
            handle = THSTensor_new(
                (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetReference(data)),
                NoDeleter,
                (IntPtr)dimensions,
                shape.Length,
                (sbyte)type,
                (sbyte)type,
                deviceType: 0,
                deviceIndex: 0,
                requiresGrad: false);
        }

        if (handle == IntPtr.Zero)
        {
            // What libtorch said is in TorchSharp's error slot; its own check raises it.
            torch.CheckForErrors();
            throw new InvalidOperationException("libtorch made no tensor over the input lane");
        }

        return torch.Tensor.UnsafeCreateTensor(handle);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Nothing(IntPtr memory)
    {
    }

    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_new(
        IntPtr data,
        IntPtr deleter,
        IntPtr dimensions,
        int dimensionCount,
        sbyte scalarType,
        sbyte dtype,
        int deviceType,
        int deviceIndex,
        [MarshalAs(UnmanagedType.U1)] bool requiresGrad);
}
