using System.Collections.ObjectModel;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AccelBroker.Client;

/// <summary>
/// A dense tensor: an element type, a shape and the raw element bytes in row-major (C) order, little-endian.
/// </summary>
/// <remarks>
/// The element .NET types are <see cref="float"/>, <see cref="double"/>, <see cref="Half"/>, <see cref="BFloat16"/>,
/// <see cref="long"/>, <see cref="int"/>, <see cref="short"/>, <see cref="sbyte"/>, <see cref="byte"/> and <see cref="bool"/>.
/// A tensor with an empty shape is a scalar holding one element.
/// </remarks>
public sealed class Tensor
{
    private const string SupportedTypesText =
        "Supported: float, double, Half, BFloat16, long, int, short, sbyte, byte and bool.";

    private readonly long[] _shape;

    /// <summary>Creates a tensor over existing bytes without copying them; the caller must not change them afterwards.</summary>
    /// <param name="dataType">The element type.</param>
    /// <param name="shape">The size of each dimension; empty for a scalar. Sizes may be 0.</param>
    /// <param name="data">The elements, little-endian, row-major; exactly element count × element size bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dataType"/> is not a defined value.</exception>
    /// <exception cref="ArgumentException">A dimension is negative, or <paramref name="data"/> has the wrong length.</exception>
    /// <exception cref="PlatformNotSupportedException">The process runs on a big-endian machine.</exception>
    public Tensor(TensorDataType dataType, ReadOnlySpan<long> shape, ReadOnlyMemory<byte> data)
    {
        EnsureLittleEndian();
        int elementSize = dataType.GetElementSize();
        long elementCount = CountElements(shape, nameof(shape));
        if (elementCount > int.MaxValue / elementSize || elementCount * elementSize != data.Length)
        {
            throw new ArgumentException(
                $"Expected {(decimal)elementCount * elementSize} bytes for a {dataType.ToName()} tensor of shape "
                + $"{FormatShape(shape)} ({elementCount} elements of {elementSize} bytes), but data has {data.Length} bytes.",
                nameof(data));
        }

        DataType = dataType;
        _shape = shape.ToArray();
        Shape = Array.AsReadOnly(_shape);
        ElementCount = elementCount;
        Data = data;
    }

    /// <summary>Gets the element type.</summary>
    public TensorDataType DataType { get; }

    /// <summary>Gets the size of each dimension; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Gets the number of elements: the product of <see cref="Shape"/> (1 for a scalar, 0 if any dimension is 0).</summary>
    public long ElementCount { get; }

    /// <summary>Gets the raw elements: little-endian, row-major (last dimension varies fastest).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Creates a tensor holding a copy of <paramref name="values"/>.</summary>
    /// <typeparam name="T">The element type; it determines <see cref="DataType"/>.</typeparam>
    /// <param name="values">The elements in row-major order.</param>
    /// <param name="shape">The shape; empty or omitted means one dimension of <c>values.Length</c>.</param>
    /// <returns>A new tensor that does not share memory with <paramref name="values"/>.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is not an element type, or the shape does not hold exactly <c>values.Length</c> elements.</exception>
    public static Tensor FromArray<T>(T[] values, params long[] shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(values);
        return FromSpan<T>(values, shape);
    }

    /// <summary>Creates a tensor holding a copy of <paramref name="values"/>.</summary>
    /// <typeparam name="T">The element type; it determines <see cref="DataType"/>.</typeparam>
    /// <param name="values">The elements in row-major order.</param>
    /// <param name="shape">The shape; empty or omitted means one dimension of <c>values.Length</c>.</param>
    /// <returns>A new tensor that does not share memory with <paramref name="values"/>.</returns>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is not an element type, or the shape does not hold exactly <c>values.Length</c> elements.</exception>
    public static Tensor FromSpan<T>(ReadOnlySpan<T> values, params long[] shape)
        where T : unmanaged
    {
        if (!TryGetDataType<T>(out TensorDataType dataType))
        {
            throw new ArgumentException($"{typeof(T).Name} is not a tensor element type. {SupportedTypesText}", nameof(values));
        }

        if (shape is null || shape.Length == 0)
        {
            shape = [values.Length];
        }

        long elementCount = CountElements(shape, nameof(shape));
        if (elementCount != values.Length)
        {
            throw new ArgumentException(
                $"Shape {FormatShape(shape)} holds {elementCount} elements, but {values.Length} values were given.",
                nameof(shape));
        }

        return new Tensor(dataType, shape, MemoryMarshal.AsBytes(values).ToArray());
    }

    /// <summary>Creates a tensor whose elements are all zero (false for bool).</summary>
    /// <param name="dataType">The element type.</param>
    /// <param name="shape">The shape; empty or omitted means a scalar.</param>
    /// <returns>A new tensor.</returns>
    /// <exception cref="ArgumentException">A dimension is negative, or the tensor would exceed 2 GB.</exception>
    public static Tensor Zeros(TensorDataType dataType, params long[] shape)
    {
        shape ??= [];
        int elementSize = dataType.GetElementSize();
        long elementCount = CountElements(shape, nameof(shape));
        if (elementCount > Array.MaxLength / elementSize)
        {
            throw new ArgumentException(
                $"A {dataType.ToName()} tensor of shape {FormatShape(shape)} would exceed the largest .NET array.",
                nameof(shape));
        }

        return new Tensor(dataType, shape, new byte[elementCount * elementSize]);
    }

    /// <summary>Copies the elements into a new array.</summary>
    /// <typeparam name="T">The .NET type matching <see cref="DataType"/>.</typeparam>
    /// <returns>The elements in row-major order.</returns>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> does not match <see cref="DataType"/>.</exception>
    public T[] ToArray<T>()
        where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>Views the elements without copying.</summary>
    /// <typeparam name="T">The .NET type matching <see cref="DataType"/>.</typeparam>
    /// <returns>The elements in row-major order.</returns>
    /// <remarks>
    /// <see cref="Data"/> may be a slice of a larger buffer and so not aligned to <c>sizeof(T)</c>. The span is still
    /// valid: <see cref="MemoryMarshal.Cast{TFrom, TTo}(ReadOnlySpan{TFrom})"/> does not require alignment, and x64 and
    /// Arm64 load unaligned elements correctly (at most slightly slower).
    /// </remarks>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> does not match <see cref="DataType"/>.</exception>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        if (!TryGetDataType<T>(out TensorDataType requested) || requested != DataType)
        {
            throw new InvalidOperationException(
                $"The tensor holds {DataType.ToName()} elements; they cannot be read as {typeof(T).Name}.");
        }

        return MemoryMarshal.Cast<byte, T>(Data.Span);
    }

    /// <summary>Converts the elements of any element type to float32.</summary>
    /// <returns>The converted elements in row-major order. Bool becomes 0 or 1; float64 and large integers are rounded to the nearest float32.</returns>
    public float[] ToSingleArray()
    {
        var result = new float[ElementCount];
        switch (DataType)
        {
            case TensorDataType.Float32:
                AsSpan<float>().CopyTo(result);
                break;
            case TensorDataType.Float64:
                Widen(AsSpan<double>(), result);
                break;
            case TensorDataType.Float16:
                Widen(AsSpan<Half>(), result);
                break;
            case TensorDataType.BFloat16:
                ReadOnlySpan<BFloat16> bfloat16 = AsSpan<BFloat16>();
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = (float)bfloat16[i];
                }

                break;
            case TensorDataType.Int64:
                Widen(AsSpan<long>(), result);
                break;
            case TensorDataType.Int32:
                Widen(AsSpan<int>(), result);
                break;
            case TensorDataType.Int16:
                Widen(AsSpan<short>(), result);
                break;
            case TensorDataType.Int8:
                Widen(AsSpan<sbyte>(), result);
                break;
            case TensorDataType.UInt8:
                Widen(AsSpan<byte>(), result);
                break;
            case TensorDataType.Bool:
                // Read as bytes rather than bools so that a stray byte other than 0 or 1 still maps to exactly 1.
                ReadOnlySpan<byte> flags = Data.Span;
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = flags[i] != 0 ? 1f : 0f;
                }

                break;
        }

        return result;
    }

    /// <summary>Describes the tensor without its values.</summary>
    /// <returns>For example "Tensor(float32, [1, 16])".</returns>
    public override string ToString() => $"Tensor({DataType.ToName()}, {FormatShape(_shape)})";

    internal static string FormatShape(ReadOnlySpan<long> shape) => $"[{string.Join(", ", shape.ToArray())}]";

    private static bool TryGetDataType<T>(out TensorDataType dataType)
        where T : unmanaged
    {
        // typeof(T) comparisons are constant-folded by the JIT for each value-type instantiation.
        TensorDataType? found =
            typeof(T) == typeof(float) ? TensorDataType.Float32
            : typeof(T) == typeof(double) ? TensorDataType.Float64
            : typeof(T) == typeof(Half) ? TensorDataType.Float16
            : typeof(T) == typeof(BFloat16) ? TensorDataType.BFloat16
            : typeof(T) == typeof(long) ? TensorDataType.Int64
            : typeof(T) == typeof(int) ? TensorDataType.Int32
            : typeof(T) == typeof(short) ? TensorDataType.Int16
            : typeof(T) == typeof(sbyte) ? TensorDataType.Int8
            : typeof(T) == typeof(byte) ? TensorDataType.UInt8
            : typeof(T) == typeof(bool) ? TensorDataType.Bool
            : null;
        dataType = found.GetValueOrDefault();
        return found.HasValue;
    }

    private static long CountElements(ReadOnlySpan<long> shape, string paramName)
    {
        long count = 1;
        foreach (long dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ArgumentException($"Shape {FormatShape(shape)} has a negative dimension.", paramName);
            }

            // Saturate instead of overflowing; any count this large is rejected by the caller's size check.
            count = dimension != 0 && count > long.MaxValue / dimension ? long.MaxValue : count * dimension;
        }

        return count;
    }

    private static void Widen<T>(ReadOnlySpan<T> source, Span<float> destination)
        where T : unmanaged, INumberBase<T>
    {
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = float.CreateTruncating(source[i]);
        }
    }

    private static void EnsureLittleEndian()
    {
        // Data is defined as little-endian and is reinterpreted in place (MemoryMarshal.Cast, one memcpy), which is only
        // correct when the host is little-endian too. Every .NET platform we target is; the JIT folds this check away.
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("AccelBroker tensors require a little-endian host.");
        }
    }
}
