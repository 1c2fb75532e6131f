using AccelBroker.Client;

namespace AccelBroker.Tests.Infrastructure;

internal static class TensorTestExtensions
{
    /// <summary>The float32 values of <paramref name="tensor"/> encoded as <paramref name="dataType"/> bytes.</summary>
    public static byte[] ToFloatBytes(this Tensor tensor, TensorDataType dataType)
    {
        float[] values = tensor.ToSingleArray();
        return dataType switch
        {
            TensorDataType.Float32 => Tensor.FromArray(values).Data.ToArray(),
            TensorDataType.Float64 => Tensor.FromArray(values.Select(v => (double)v).ToArray()).Data.ToArray(),
            TensorDataType.Float16 => Tensor.FromArray(values.Select(v => (Half)v).ToArray()).Data.ToArray(),
            TensorDataType.BFloat16 => Tensor.FromArray(values.Select(v => (BFloat16)v).ToArray()).Data.ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(dataType)),
        };
    }
}
