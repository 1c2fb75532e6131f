using AccelBroker.Protocol.V1;

namespace AccelBroker.Protocol.Wire;

/// <summary>Element sizes and names of the wire data types.</summary>
internal static class DataTypeSizes
{
    /// <summary>Bytes per element, or 0 for <see cref="DataType.Unspecified"/> and unknown values.</summary>
    public static int ElementSize(DataType dataType) => dataType switch
    {
        DataType.Float64 or DataType.Int64 => 8,
        DataType.Float32 or DataType.Int32 => 4,
        DataType.Float16 or DataType.Bfloat16 or DataType.Int16 => 2,
        DataType.Int8 or DataType.Uint8 or DataType.Bool => 1,
        _ => 0,
    };

    /// <summary>Lower-case name as users write it (float32, bfloat16, …).</summary>
    public static string Name(DataType dataType) => dataType switch
    {
        DataType.Float32 => "float32",
        DataType.Float64 => "float64",
        DataType.Float16 => "float16",
        DataType.Bfloat16 => "bfloat16",
        DataType.Int64 => "int64",
        DataType.Int32 => "int32",
        DataType.Int16 => "int16",
        DataType.Int8 => "int8",
        DataType.Uint8 => "uint8",
        DataType.Bool => "bool",
        _ => $"unspecified({(int)dataType})",
    };

    /// <summary>Number of elements of a shape; throws <see cref="OverflowException"/> when it does not fit.</summary>
    public static long ElementCount(IReadOnlyList<long> shape)
    {
        long count = 1;
        foreach (long dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"negative dimension {dim} in shape [{string.Join(", ", shape)}]");
            }

            count = checked(count * dim);
        }

        return count;
    }

    /// <summary>Formats a shape as [1, 3, 224, 224].</summary>
    public static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
