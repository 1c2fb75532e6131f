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

    /// <summary>
    /// Number of elements of a shape; throws <see cref="OverflowException"/> when it, or the strides of a shape with
    /// a zero dimension (libtorch computes them all the same), do not fit in 64 bits.
    /// </summary>
    public static long ElementCount(IReadOnlyList<long> shape)
    {
        long strides = 1;
        bool empty = false;
        foreach (long dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"negative dimension {dim} in shape [{string.Join(", ", shape)}]");
            }

            empty |= dim == 0;
            try
            {
                strides = checked(strides * Math.Max(dim, 1));
            }
            catch (OverflowException)
            {
                throw new OverflowException("its element count (or a stride) overflows 64 bits");
            }
        }

        return empty ? 0 : strides;
    }

    /// <summary>Bytes of a tensor of <paramref name="elementSize"/>-byte elements; throws <see cref="OverflowException"/> past 64 bits.</summary>
    public static long ByteCount(IReadOnlyList<long> shape, int elementSize)
    {
        long count = ElementCount(shape);
        try
        {
            return checked(count * elementSize);
        }
        catch (OverflowException)
        {
            throw new OverflowException("its byte count overflows 64 bits");
        }
    }

    /// <summary>Formats a shape as [1, 3, 224, 224].</summary>
    public static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
