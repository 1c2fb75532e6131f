using TorchSharp;

namespace AccelBroker.Benchmarks;

/// <summary>
/// The in-process baseline: a TorchScript model loaded and run with TorchSharp exactly as the agent does
/// (jit.load, eval, no grad on parameters; each call in a dispose scope under inference mode, input bytes
/// copied into a new tensor, output bytes copied out).
/// </summary>
internal sealed class InProcessModel : IDisposable
{
    private readonly torch.jit.ScriptModule _module;

    public InProcessModel(string path)
    {
        _module = torch.jit.load(path, DeviceType.CPU);
        _module.eval();
        foreach (var parameter in _module.parameters())
        {
            parameter.requires_grad = false;
        }
    }

    /// <summary>Runs one float32 input through the model; returns the single tensor output's bytes.</summary>
    public byte[] Run(ReadOnlySpan<byte> input, long[] shape)
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        torch.Tensor x = torch.empty(shape, torch.ScalarType.Float32, torch.CPU);
        input.CopyTo(x.bytes);
        object result = _module.call(x);
        if (result is not torch.Tensor output)
        {
            throw new InvalidOperationException($"the model returned {result?.GetType().Name ?? "None"}, not a tensor");
        }

        if (!output.is_contiguous())
        {
            output = output.contiguous();
        }

        return output.bytes.ToArray();
    }

    public void Dispose() => _module.Dispose();
}
