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
            if (seen.Add(tensor.storage<byte>().data_ptr()))
            {
                bytes += tensor.NumberOfElements * tensor.ElementSize;
            }
        }

        return bytes;
    }
}
