using AccelBroker.Client;
using TorchSharp;

namespace AccelBroker.Tests.Infrastructure;

/// <summary>Runs a TorchScript file in this process with TorchSharp: the reference remote runs must equal.</summary>
internal static class LocalTorch
{
    public static Tensor[] Run(string modelPath, torch.ScalarType? cast, params Tensor[] inputs)
    {
        using var scope = torch.NewDisposeScope();
        using torch.jit.ScriptModule module = torch.jit.load(modelPath);
        return Run(module, cast, inputs);
    }

    /// <summary>Loads TorchScript bytes in this process: only for files known to be sound, never for a mutant.</summary>
    public static Tensor[] Run(byte[] model, torch.ScalarType? cast, params Tensor[] inputs)
    {
        using var scope = torch.NewDisposeScope();
        using torch.jit.ScriptModule module = torch.jit.load(model, DeviceType.CPU);
        return Run(module, cast, inputs);
    }

    private static Tensor[] Run(torch.jit.ScriptModule module, torch.ScalarType? cast, Tensor[] inputs)
    {
        module.eval();
        foreach (var parameter in module.parameters())
        {
            parameter.requires_grad = false;
        }

        if (cast == torch.ScalarType.Float16)
        {
            module.half();
        }
        else if (cast == torch.ScalarType.BFloat16)
        {
            module.bfloat16();
        }

        using var mode = torch.inference_mode();
        object[] args = inputs.Select(input =>
        {
            torch.Tensor t = torch.empty(input.Shape.ToArray(), ScalarType(input.DataType));
            input.Data.Span.CopyTo(t.bytes);
            return (object)(cast is { } c && t.is_floating_point() ? t.to(c) : t);
        }).ToArray();
        object result = module.call(args);
        torch.Tensor[] outputs = result switch
        {
            torch.Tensor t => [t],
            torch.Tensor[] list => list,
            System.Runtime.CompilerServices.ITuple tuple => Enumerable.Range(0, tuple.Length).Select(i => (torch.Tensor)tuple[i]!).ToArray(),
            _ => throw new InvalidOperationException($"unexpected output {result.GetType()}"),
        };
        return outputs.Select(o =>
        {
            torch.Tensor c = (o.dtype is torch.ScalarType.Float16 or torch.ScalarType.BFloat16 ? o.to(torch.ScalarType.Float32) : o).contiguous();
            return new Tensor(DataType(c.dtype), c.shape, c.bytes.ToArray());
        }).ToArray();
    }

    public static torch.ScalarType ScalarType(TensorDataType dataType) => dataType switch
    {
        TensorDataType.Float32 => torch.ScalarType.Float32,
        TensorDataType.Float64 => torch.ScalarType.Float64,
        TensorDataType.Float16 => torch.ScalarType.Float16,
        TensorDataType.BFloat16 => torch.ScalarType.BFloat16,
        TensorDataType.Int64 => torch.ScalarType.Int64,
        TensorDataType.Int32 => torch.ScalarType.Int32,
        TensorDataType.Int16 => torch.ScalarType.Int16,
        TensorDataType.Int8 => torch.ScalarType.Int8,
        TensorDataType.UInt8 => torch.ScalarType.Byte,
        _ => torch.ScalarType.Bool,
    };

    private static TensorDataType DataType(torch.ScalarType scalarType) => scalarType switch
    {
        torch.ScalarType.Float32 => TensorDataType.Float32,
        torch.ScalarType.Float64 => TensorDataType.Float64,
        torch.ScalarType.Int64 => TensorDataType.Int64,
        torch.ScalarType.Int32 => TensorDataType.Int32,
        _ => throw new InvalidOperationException($"unexpected dtype {scalarType}"),
    };
}
