using TorchSharp;

namespace AccelBroker.Agent.Execution;

/// <summary>What a loaded model occupies: its parameters and buffers, each storage counted once.</summary>
internal static class ModelFootprint
{
    public static long ParameterAndBufferBytes(torch.jit.ScriptModule module)
    {
        var seen = new HashSet<IntPtr>();
        long bytes = 0;
        foreach (torch.Tensor tensor in module.parameters().Cast<torch.Tensor>().Concat(module.buffers()))
        {
            // Tied weights share one storage; count it once.
            if (seen.Add(StorageOf(tensor)))
            {
                bytes += tensor.NumberOfElements * tensor.ElementSize;
            }
        }

        return bytes;
    }

    /// <summary>
    /// The address of a tensor's storage, without reading it. TorchSharp's <c>storage&lt;T&gt;()</c> converts a
    /// tensor of another element type, reading (and copying) all of it: a storage shorter than its tensor then
    /// crashes the reader. Types TorchSharp has no storage type for count by the tensor itself.
    /// </summary>
    private static IntPtr StorageOf(torch.Tensor tensor) => tensor.dtype switch
    {
        torch.ScalarType.Float32 => tensor.storage<float>().data_ptr(),
        torch.ScalarType.Float64 => tensor.storage<double>().data_ptr(),
        torch.ScalarType.Int64 => tensor.storage<long>().data_ptr(),
        torch.ScalarType.Int32 => tensor.storage<int>().data_ptr(),
        torch.ScalarType.Byte => tensor.storage<byte>().data_ptr(),
        torch.ScalarType.Bool => tensor.storage<bool>().data_ptr(),
        _ => tensor.Handle,
    };
}
