namespace AccelBroker.Client;

/// <summary>Element type of a <see cref="Tensor"/>.</summary>
public enum TensorDataType
{
    /// <summary>32-bit IEEE 754 floating point (<see cref="float"/>).</summary>
    Float32,

    /// <summary>64-bit IEEE 754 floating point (<see cref="double"/>).</summary>
    Float64,

    /// <summary>16-bit IEEE 754 floating point (<see cref="System.Half"/>).</summary>
    Float16,

    /// <summary>16-bit brain floating point (<see cref="AccelBroker.Client.BFloat16"/>).</summary>
    BFloat16,

    /// <summary>Signed 64-bit integer (<see cref="long"/>).</summary>
    Int64,

    /// <summary>Signed 32-bit integer (<see cref="int"/>).</summary>
    Int32,

    /// <summary>Signed 16-bit integer (<see cref="short"/>).</summary>
    Int16,

    /// <summary>Signed 8-bit integer (<see cref="sbyte"/>).</summary>
    Int8,

    /// <summary>Unsigned 8-bit integer (<see cref="byte"/>).</summary>
    UInt8,

    /// <summary>Boolean stored as one byte, 0 or 1 (<see cref="bool"/>).</summary>
    Bool,
}

/// <summary>Size, kind and name of a <see cref="TensorDataType"/>.</summary>
public static class TensorDataTypeExtensions
{
    /// <summary>Gets the size of one element in bytes.</summary>
    /// <param name="dataType">The element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dataType"/> is not a defined value.</exception>
    public static int GetElementSize(this TensorDataType dataType) => dataType switch
    {
        TensorDataType.Float64 or TensorDataType.Int64 => 8,
        TensorDataType.Float32 or TensorDataType.Int32 => 4,
        TensorDataType.Float16 or TensorDataType.BFloat16 or TensorDataType.Int16 => 2,
        TensorDataType.Int8 or TensorDataType.UInt8 or TensorDataType.Bool => 1,
        _ => throw Undefined(dataType),
    };

    /// <summary>Gets whether the element type is a floating-point type.</summary>
    /// <param name="dataType">The element type.</param>
    /// <returns><see langword="true"/> for float32, float64, float16 and bfloat16.</returns>
    public static bool IsFloatingPoint(this TensorDataType dataType) => dataType
        is TensorDataType.Float32 or TensorDataType.Float64 or TensorDataType.Float16 or TensorDataType.BFloat16;

    /// <summary>Gets the canonical lower-case name, as used by PyTorch (for example "float32").</summary>
    /// <param name="dataType">The element type.</param>
    /// <returns>The name that <see cref="TryParse"/> accepts.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dataType"/> is not a defined value.</exception>
    public static string ToName(this TensorDataType dataType) => dataType switch
    {
        TensorDataType.Float32 => "float32",
        TensorDataType.Float64 => "float64",
        TensorDataType.Float16 => "float16",
        TensorDataType.BFloat16 => "bfloat16",
        TensorDataType.Int64 => "int64",
        TensorDataType.Int32 => "int32",
        TensorDataType.Int16 => "int16",
        TensorDataType.Int8 => "int8",
        TensorDataType.UInt8 => "uint8",
        TensorDataType.Bool => "bool",
        _ => throw Undefined(dataType),
    };

    /// <summary>
    /// Parses a canonical name (see <see cref="ToName"/>) or one of the PyTorch aliases
    /// "float", "double", "half", "long" and "int", ignoring case.
    /// </summary>
    /// <param name="name">The name to parse.</param>
    /// <param name="dataType">The parsed element type, or <see cref="TensorDataType.Float32"/> when parsing fails.</param>
    /// <returns><see langword="true"/> if <paramref name="name"/> names an element type.</returns>
    public static bool TryParse(string? name, out TensorDataType dataType)
    {
        TensorDataType? parsed = name?.ToLowerInvariant() switch
        {
            "float32" or "float" => TensorDataType.Float32,
            "float64" or "double" => TensorDataType.Float64,
            "float16" or "half" => TensorDataType.Float16,
            "bfloat16" => TensorDataType.BFloat16,
            "int64" or "long" => TensorDataType.Int64,
            "int32" or "int" => TensorDataType.Int32,
            "int16" => TensorDataType.Int16,
            "int8" => TensorDataType.Int8,
            "uint8" => TensorDataType.UInt8,
            "bool" => TensorDataType.Bool,
            _ => null,
        };
        dataType = parsed.GetValueOrDefault();
        return parsed.HasValue;
    }

    private static ArgumentOutOfRangeException Undefined(TensorDataType dataType) =>
        new(nameof(dataType), dataType, "Not a defined TensorDataType value.");
}
