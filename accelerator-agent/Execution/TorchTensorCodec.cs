using System.Runtime.CompilerServices;
using AccelBroker.Hosting.Errors;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;
using TorchSharp;

namespace AccelBroker.Agent.Execution;

/// <summary>Converts between wire tensors and TorchSharp tensors with one memcpy each way.</summary>
internal static class TorchTensorCodec
{
    public static torch.ScalarType ToScalarType(DataType dataType) => dataType switch
    {
        DataType.Float32 => torch.ScalarType.Float32,
        DataType.Float64 => torch.ScalarType.Float64,
        DataType.Float16 => torch.ScalarType.Float16,
        DataType.Bfloat16 => torch.ScalarType.BFloat16,
        DataType.Int64 => torch.ScalarType.Int64,
        DataType.Int32 => torch.ScalarType.Int32,
        DataType.Int16 => torch.ScalarType.Int16,
        DataType.Int8 => torch.ScalarType.Int8,
        DataType.Uint8 => torch.ScalarType.Byte,
        DataType.Bool => torch.ScalarType.Bool,
        _ => throw DomainException.Invalid($"unsupported dtype {DataTypeSizes.Name(dataType)}"),
    };

    public static DataType? ToDataType(torch.ScalarType scalarType) => scalarType switch
    {
        torch.ScalarType.Float32 => DataType.Float32,
        torch.ScalarType.Float64 => DataType.Float64,
        torch.ScalarType.Float16 => DataType.Float16,
        torch.ScalarType.BFloat16 => DataType.Bfloat16,
        torch.ScalarType.Int64 => DataType.Int64,
        torch.ScalarType.Int32 => DataType.Int32,
        torch.ScalarType.Int16 => DataType.Int16,
        torch.ScalarType.Int8 => DataType.Int8,
        torch.ScalarType.Byte => DataType.Uint8,
        torch.ScalarType.Bool => DataType.Bool,
        _ => null,
    };

    /// <summary>Creates a tensor on <paramref name="device"/>; floating inputs are cast to <paramref name="castFloating"/> when given.</summary>
    public static torch.Tensor ToTorch(WireTensor input, torch.Device device, torch.ScalarType? castFloating) =>
        ToTorch(input.DataType, input.Shape, input.Data.Span, device, castFloating);

    /// <summary>Creates a tensor from raw little-endian bytes, with one copy.</summary>
    public static torch.Tensor ToTorch(DataType dataType, long[] shape, ReadOnlySpan<byte> data, torch.Device device, torch.ScalarType? castFloating)
    {
        torch.Tensor tensor = torch.empty(shape, ToScalarType(dataType), torch.CPU);
        if (data.Length > 0)
        {
            data.CopyTo(tensor.bytes);
        }

        return OnDevice(tensor, device, castFloating);
    }

    /// <summary>A host tensor moved to <paramref name="device"/> and cast as <see cref="ToTorch(WireTensor, torch.Device, torch.ScalarType?)"/> does.</summary>
    public static torch.Tensor OnDevice(torch.Tensor tensor, torch.Device device, torch.ScalarType? castFloating)
    {
        if (device.type != DeviceType.CPU)
        {
            tensor = tensor.to(device);
        }

        // Cast and move in two steps: TorchSharp's combined to(device, dtype) ignores the dtype.
        if (castFloating is { } cast && tensor.is_floating_point() && tensor.dtype != cast)
        {
            tensor = tensor.to(cast);
        }

        return tensor;
    }

    /// <summary>
    /// The result tensor as it goes on the wire: float32 for reduced-precision results unless asked otherwise, in
    /// host memory, contiguous; its <c>bytes</c> are then the wire bytes.
    /// </summary>
    public static (DataType DataType, torch.Tensor Host) ToHost(torch.Tensor tensor, torch.ScalarType? castFloating, bool nativeOutputDtype)
    {
        if (castFloating is { } cast && !nativeOutputDtype && tensor.dtype == cast)
        {
            tensor = tensor.to(torch.ScalarType.Float32);
        }

        DataType dataType = ToDataType(tensor.dtype)
            ?? throw DomainException.Invalid($"model returned a tensor of unsupported dtype {tensor.dtype}");
        if (tensor.device_type != DeviceType.CPU)
        {
            tensor = tensor.cpu();
        }

        if (!tensor.is_contiguous())
        {
            tensor = tensor.contiguous();
        }

        return (dataType, tensor);
    }

    /// <summary>Flattens what TorchScript returned into a kind and a list of tensors.</summary>
    public static (OutputKind Kind, List<torch.Tensor> Tensors) Flatten(object? result)
    {
        switch (result)
        {
            case torch.Tensor tensor:
                return (OutputKind.Tensor, [tensor]);
            case torch.Tensor[] list:
                // TorchSharp returns lists (and tuples longer than five) as Tensor[].
                return (OutputKind.List, [.. list]);
            case ITuple tuple:
                var items = new List<torch.Tensor>(tuple.Length);
                for (int i = 0; i < tuple.Length; i++)
                {
                    items.Add(AsTensor(tuple[i], i));
                }

                return (OutputKind.Tuple, items);
            case object[] objects:
                return (OutputKind.List, objects.Select(AsTensor).ToList());
            case long or double or bool or int or float:
                return (OutputKind.Tensor, [AsTensor(result, 0)]);
            default:
                throw DomainException.Invalid($"model returned {result?.GetType().Name ?? "None"}; supported outputs are a tensor, or a tuple or list of tensors");
        }
    }

    private static torch.Tensor AsTensor(object? value, int index) => value switch
    {
        torch.Tensor tensor => tensor,
        long l => torch.tensor(l),
        int i => torch.tensor((long)i),
        double d => torch.tensor(d),
        float f => torch.tensor(f),
        bool b => torch.tensor(b),
        _ => throw DomainException.Invalid($"model output element {index} is {value?.GetType().Name ?? "None"}; nested or non-tensor outputs are not supported"),
    };
}
