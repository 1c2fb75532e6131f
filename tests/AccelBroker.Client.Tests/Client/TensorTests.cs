using System.Runtime.InteropServices;
using AccelBroker.Client;
using Xunit;

namespace AccelBroker.Tests.Client;

public sealed class TensorTests
{
    public static TheoryData<TensorDataType> AllDataTypes => [.. Enum.GetValues<TensorDataType>()];

    [Theory]
    [MemberData(nameof(AllDataTypes))]
    public void FromArray_ToArray_RoundTripsEveryDataType(TensorDataType dataType)
    {
        switch (dataType)
        {
            case TensorDataType.Float32:
                AssertRoundTrip([0f, -1.5f, float.MaxValue, float.Epsilon, float.NegativeInfinity, float.NaN], dataType);
                break;
            case TensorDataType.Float64:
                AssertRoundTrip([0d, -1.5d, double.MaxValue, double.Epsilon, 1e-300, double.NaN], dataType);
                break;
            case TensorDataType.Float16:
                AssertRoundTrip([(Half)0, (Half)(-1.5f), Half.MaxValue, Half.Epsilon, Half.PositiveInfinity, Half.NaN], dataType);
                break;
            case TensorDataType.BFloat16:
                AssertRoundTrip([(BFloat16)0f, (BFloat16)(-1.5f), (BFloat16)3e38f, BFloat16.FromRawValue(1), (BFloat16)float.PositiveInfinity, (BFloat16)float.NaN], dataType);
                break;
            case TensorDataType.Int64:
                AssertRoundTrip([0L, -1L, long.MinValue, long.MaxValue, 1L << 40, 7L], dataType);
                break;
            case TensorDataType.Int32:
                AssertRoundTrip([0, -1, int.MinValue, int.MaxValue, 1 << 20, 7], dataType);
                break;
            case TensorDataType.Int16:
                AssertRoundTrip(new short[] { 0, -1, short.MinValue, short.MaxValue, 256, 7 }, dataType);
                break;
            case TensorDataType.Int8:
                AssertRoundTrip(new sbyte[] { 0, -1, sbyte.MinValue, sbyte.MaxValue, 16, 7 }, dataType);
                break;
            case TensorDataType.UInt8:
                AssertRoundTrip(new byte[] { 0, 1, 128, 255, 16, 7 }, dataType);
                break;
            case TensorDataType.Bool:
                AssertRoundTrip([true, false, false, true, true, false], dataType);
                break;
            default:
                Assert.Fail($"No sample values for {dataType}.");
                break;
        }
    }

    [Fact]
    public void FromArray_CopiesTheValues()
    {
        float[] values = [1, 2, 3];
        var tensor = Tensor.FromArray(values);

        values[0] = 99;

        Assert.Equal([1f, 2f, 3f], tensor.ToArray<float>());
    }

    [Fact]
    public void FromArray_WithoutShape_IsOneDimensional()
    {
        var tensor = Tensor.FromArray([1, 2, 3, 4]);

        Assert.Equal([4L], tensor.Shape);
        Assert.Equal(4, tensor.ElementCount);
    }

    [Fact]
    public void FromSpan_UsesTheGivenShape()
    {
        ReadOnlySpan<long> values = [1, 2, 3, 4, 5, 6];

        var tensor = Tensor.FromSpan(values, 3, 1, 2);

        Assert.Equal(TensorDataType.Int64, tensor.DataType);
        Assert.Equal([3L, 1L, 2L], tensor.Shape);
        Assert.Equal(values.ToArray(), tensor.ToArray<long>());
    }

    [Fact]
    public void FromArray_ShapeNotMatchingValueCount_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.FromArray(new float[5], 2, 3));

        Assert.Contains("[2, 3]", error.Message, StringComparison.Ordinal);
        Assert.Contains("6 elements", error.Message, StringComparison.Ordinal);
        Assert.Contains("5 values", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromArray_UnsupportedElementType_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.FromArray(new ushort[] { 1, 2 }));

        Assert.Contains("UInt16", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new[] { 'a' }));
    }

    [Fact]
    public void FromArray_NegativeDimension_Throws()
    {
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new float[2], -1, -2));
    }

    [Fact]
    public void Constructor_KeepsTheCallersMemoryWithoutCopying()
    {
        var buffer = new byte[16];
        var data = new ReadOnlyMemory<byte>(buffer, 4, 8);

        var tensor = new Tensor(TensorDataType.Int32, [2], data);

        Assert.True(MemoryMarshal.TryGetArray(tensor.Data, out ArraySegment<byte> segment));
        Assert.Same(buffer, segment.Array);
        Assert.Equal(4, segment.Offset);
    }

    [Fact]
    public void Constructor_WrongByteCount_NamesExpectedAndActualBytes()
    {
        var error = Assert.Throws<ArgumentException>(() => new Tensor(TensorDataType.Float32, [2, 3], new byte[20]));

        Assert.Equal("data", error.ParamName);
        Assert.Contains("Expected 24 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", error.Message, StringComparison.Ordinal);
        Assert.Contains("20 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NegativeDimension_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new Tensor(TensorDataType.UInt8, [2, -1], new byte[2]));

        Assert.Contains("negative", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ShapeWhoseSizeOverflows_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new Tensor(TensorDataType.Float32, [long.MaxValue, 2], ReadOnlyMemory<byte>.Empty));
        Assert.Throws<ArgumentException>(() => new Tensor(TensorDataType.Float64, [1L << 31, 1L << 31, 4], ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public void Constructor_UndefinedDataType_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Tensor((TensorDataType)42, [1], new byte[1]));
    }

    [Fact]
    public void Shape_IsACopyAndReadOnly()
    {
        long[] shape = [2, 2];
        var tensor = new Tensor(TensorDataType.UInt8, shape, new byte[4]);

        shape[0] = 4;

        Assert.Equal([2L, 2L], tensor.Shape);
        Assert.Throws<NotSupportedException>(() => ((IList<long>)tensor.Shape)[0] = 1);
    }

    [Fact]
    public void Scalar_HasEmptyShapeAndOneElement()
    {
        var tensor = new Tensor(TensorDataType.Float32, [], BitConverter.GetBytes(2.5f));

        Assert.Empty(tensor.Shape);
        Assert.Equal(1, tensor.ElementCount);
        Assert.Equal([2.5f], tensor.ToArray<float>());
        Assert.Equal("Tensor(float32, [])", tensor.ToString());
    }

    [Fact]
    public void ZeroSizeDimension_HasNoElementsAndNoBytes()
    {
        var tensor = Tensor.FromArray(Array.Empty<float>(), 0, 3);

        Assert.Equal([0L, 3L], tensor.Shape);
        Assert.Equal(0, tensor.ElementCount);
        Assert.True(tensor.Data.IsEmpty);
        Assert.Empty(tensor.ToArray<float>());
        Assert.Empty(tensor.ToSingleArray());
    }

    [Fact]
    public void Zeros_AllocatesZeroedElements()
    {
        var tensor = Tensor.Zeros(TensorDataType.Int64, 2, 3);

        Assert.Equal(TensorDataType.Int64, tensor.DataType);
        Assert.Equal([2L, 3L], tensor.Shape);
        Assert.Equal(new long[6], tensor.ToArray<long>());
    }

    [Fact]
    public void Zeros_WithoutShape_IsAScalar()
    {
        var tensor = Tensor.Zeros(TensorDataType.Bool);

        Assert.Empty(tensor.Shape);
        Assert.Equal([false], tensor.ToArray<bool>());
    }

    [Fact]
    public void Zeros_ZeroSizeDimension_IsEmpty()
    {
        var tensor = Tensor.Zeros(TensorDataType.Float16, 4, 0, 2);

        Assert.Equal(0, tensor.ElementCount);
        Assert.True(tensor.Data.IsEmpty);
    }

    [Fact]
    public void Zeros_InvalidShape_Throws()
    {
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(TensorDataType.Float32, 3, -1));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(TensorDataType.Float64, 1L << 40));
    }

    [Fact]
    public void ToArray_WrongElementType_NamesBothTypes()
    {
        var tensor = Tensor.FromArray([1f, 2f]);

        var error = Assert.Throws<InvalidOperationException>(() => tensor.ToArray<int>());

        Assert.Contains("float32", error.Message, StringComparison.Ordinal);
        Assert.Contains("Int32", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => tensor.ToArray<double>());
        Assert.Throws<InvalidOperationException>(() => tensor.ToArray<ushort>());
    }

    [Fact]
    public void AsSpan_ViewsTheDataWithoutCopying()
    {
        var buffer = new byte[8];
        var tensor = new Tensor(TensorDataType.Int32, [2], buffer);

        BitConverter.TryWriteBytes(buffer.AsSpan(4), 123);

        Assert.Equal(123, tensor.AsSpan<int>()[1]);
    }

    [Fact]
    public void AsSpan_UnalignedSlice_ReadsCorrectValues()
    {
        var buffer = new byte[1 + (3 * sizeof(double))];
        MemoryMarshal.Cast<double, byte>([1.25, -2.5, 1e100]).CopyTo(buffer.AsSpan(1));
        var tensor = new Tensor(TensorDataType.Float64, [3], buffer.AsMemory(1));

        Assert.Equal([1.25, -2.5, 1e100], tensor.AsSpan<double>().ToArray());
        Assert.Equal([1.25, -2.5, 1e100], tensor.ToArray<double>());
    }

    [Fact]
    public void AsSpan_WrongElementType_Throws()
    {
        var tensor = Tensor.FromArray(new byte[] { 1, 2 });

        Assert.Throws<InvalidOperationException>(() => tensor.AsSpan<sbyte>().Length);
        Assert.Throws<InvalidOperationException>(() => tensor.AsSpan<bool>().Length);
    }

    [Fact]
    public void ToSingleArray_Float32_ReturnsACopy()
    {
        var tensor = Tensor.FromArray([1.5f, -2f]);

        float[] values = tensor.ToSingleArray();
        values[0] = 0;

        Assert.Equal([1.5f, -2f], tensor.ToSingleArray());
    }

    [Fact]
    public void ToSingleArray_Float64_RoundsToNearestFloat()
    {
        var tensor = Tensor.FromArray([0.1, -2.5, 1e300, double.NaN]);

        Assert.Equal([0.1f, -2.5f, float.PositiveInfinity, float.NaN], tensor.ToSingleArray());
    }

    [Fact]
    public void ToSingleArray_Float16_IsExact()
    {
        var tensor = Tensor.FromArray([(Half)0.1f, Half.MaxValue, Half.NegativeInfinity, Half.Epsilon]);

        Assert.Equal([0.0999755859375f, 65504f, float.NegativeInfinity, 5.9604645e-8f], tensor.ToSingleArray());
    }

    [Fact]
    public void ToSingleArray_BFloat16_IsExact()
    {
        var tensor = Tensor.FromArray([(BFloat16)0.1f, (BFloat16)(-3f), BFloat16.FromRawValue(0x7F7F)]);

        Assert.Equal([0.10009765625f, -3f, 3.3895314e38f], tensor.ToSingleArray());
    }

    [Fact]
    public void ToSingleArray_Integers_ConvertToNearestFloat()
    {
        Assert.Equal([-3f, 16777216f, 1099511627776f], Tensor.FromArray([-3L, 16777217L, 1L << 40]).ToSingleArray());
        Assert.Equal([int.MinValue, 7f], Tensor.FromArray([int.MinValue, 7]).ToSingleArray());
        Assert.Equal([-32768f, 32767f], Tensor.FromArray(new short[] { short.MinValue, short.MaxValue }).ToSingleArray());
        Assert.Equal([-128f, 127f], Tensor.FromArray(new sbyte[] { sbyte.MinValue, sbyte.MaxValue }).ToSingleArray());
        Assert.Equal([0f, 255f], Tensor.FromArray(new byte[] { 0, 255 }).ToSingleArray());
    }

    [Fact]
    public void ToSingleArray_Bool_IsZeroOrOne()
    {
        Assert.Equal([1f, 0f, 1f], Tensor.FromArray([true, false, true]).ToSingleArray());
        // Bytes other than 0 and 1 (for example from a foreign producer) still count as true.
        Assert.Equal([0f, 1f, 1f], new Tensor(TensorDataType.Bool, [3], new byte[] { 0, 1, 2 }).ToSingleArray());
    }

    [Fact]
    public void ToString_ShowsDataTypeAndShape()
    {
        Assert.Equal("Tensor(float32, [1, 16])", Tensor.Zeros(TensorDataType.Float32, 1, 16).ToString());
        Assert.Equal("Tensor(bfloat16, [3])", Tensor.Zeros(TensorDataType.BFloat16, 3).ToString());
    }

    [Theory]
    [InlineData(TensorDataType.Float32, 4, true, "float32")]
    [InlineData(TensorDataType.Float64, 8, true, "float64")]
    [InlineData(TensorDataType.Float16, 2, true, "float16")]
    [InlineData(TensorDataType.BFloat16, 2, true, "bfloat16")]
    [InlineData(TensorDataType.Int64, 8, false, "int64")]
    [InlineData(TensorDataType.Int32, 4, false, "int32")]
    [InlineData(TensorDataType.Int16, 2, false, "int16")]
    [InlineData(TensorDataType.Int8, 1, false, "int8")]
    [InlineData(TensorDataType.UInt8, 1, false, "uint8")]
    [InlineData(TensorDataType.Bool, 1, false, "bool")]
    public void DataType_SizeKindAndName(TensorDataType dataType, int size, bool isFloatingPoint, string name)
    {
        Assert.Equal(size, dataType.GetElementSize());
        Assert.Equal(isFloatingPoint, dataType.IsFloatingPoint());
        Assert.Equal(name, dataType.ToName());
        Assert.True(TensorDataTypeExtensions.TryParse(name, out TensorDataType parsed));
        Assert.Equal(dataType, parsed);
        Assert.True(TensorDataTypeExtensions.TryParse(name.ToUpperInvariant(), out parsed));
        Assert.Equal(dataType, parsed);
    }

    [Theory]
    [InlineData("float", TensorDataType.Float32)]
    [InlineData("double", TensorDataType.Float64)]
    [InlineData("Half", TensorDataType.Float16)]
    [InlineData("LONG", TensorDataType.Int64)]
    [InlineData("int", TensorDataType.Int32)]
    [InlineData("BFloat16", TensorDataType.BFloat16)]
    public void DataType_TryParse_AcceptsAliases(string name, TensorDataType expected)
    {
        Assert.True(TensorDataTypeExtensions.TryParse(name, out TensorDataType parsed));
        Assert.Equal(expected, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("float128")]
    [InlineData("uint16")]
    [InlineData(" float32")]
    [InlineData(null)]
    public void DataType_TryParse_RejectsUnknownNames(string? name)
    {
        Assert.False(TensorDataTypeExtensions.TryParse(name, out _));
    }

    [Fact]
    public void DataType_UndefinedValue_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ((TensorDataType)42).GetElementSize());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((TensorDataType)42).ToName());
    }

    [Theory]
    [InlineData(1f, 0x3F80)]
    [InlineData(-2f, 0xC000)]
    [InlineData(0f, 0x0000)]
    [InlineData(-0f, 0x8000)]
    [InlineData(float.PositiveInfinity, 0x7F80)]
    [InlineData(float.NegativeInfinity, 0xFF80)]
    [InlineData(3.140625f, 0x4049)]
    public void BFloat16_ExactValues_ConvertBothWays(float value, int raw)
    {
        var bfloat16 = (BFloat16)value;

        Assert.Equal((ushort)raw, bfloat16.RawValue);
        Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits((float)bfloat16));
    }

    [Theory]
    // 1 + 2^-8 lies halfway between 1 (even mantissa) and 1 + 2^-7 (odd): ties go to even.
    [InlineData(1.00390625f, 1f)]
    // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
    [InlineData(1.01171875f, 1.015625f)]
    [InlineData(-1.00390625f, -1f)]
    [InlineData(0.1f, 0.10009765625f)]
    // float.MaxValue is past the midpoint between the largest bfloat16 and the next power of two: IEEE rounds to infinity.
    [InlineData(float.MaxValue, float.PositiveInfinity)]
    public void BFloat16_FromFloat_RoundsToNearestEven(float value, float expected)
    {
        Assert.Equal(expected, (float)(BFloat16)value);
    }

    [Theory]
    // One float ulp either side of the tie at 1 + 2^-8 (0x3F808000): above rounds up, below rounds down.
    [InlineData(0x3F808001, 0x3F81)]
    [InlineData(0x3F807FFF, 0x3F80)]
    // The largest finite float below 2^-126 (subnormal) rounds up to the smallest normal bfloat16.
    [InlineData(0x007FFFFF, 0x0080)]
    public void BFloat16_FromFloat_RoundsByBits(int floatBits, int expectedRaw)
    {
        Assert.Equal((ushort)expectedRaw, ((BFloat16)BitConverter.Int32BitsToSingle(floatBits)).RawValue);
    }

    [Fact]
    public void BFloat16_NaN_StaysNaNWithItsSign()
    {
        // Only low mantissa bits set: truncating to 16 bits would turn this NaN into infinity.
        float lowPayloadNaN = BitConverter.Int32BitsToSingle(0x7F800001);
        float negativeNaN = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00000));

        Assert.True(float.IsNaN((float)(BFloat16)float.NaN));
        Assert.True(float.IsNaN((float)(BFloat16)lowPayloadNaN));
        Assert.True(float.IsNaN((float)(BFloat16)negativeNaN));
        Assert.True(float.IsNegative((float)(BFloat16)negativeNaN));
    }

    [Fact]
    public void BFloat16_Equality_FollowsHalfSemantics()
    {
        var nan = (BFloat16)float.NaN;
        var otherNaN = BFloat16.FromRawValue(0xFFC1);
        var positiveZero = (BFloat16)0f;
        var negativeZero = (BFloat16)(-0f);

        Assert.True(nan.Equals(otherNaN));
        Assert.False(nan == otherNaN);
        Assert.True(nan != otherNaN);
        Assert.Equal(nan.GetHashCode(), otherNaN.GetHashCode());
        Assert.True(positiveZero == negativeZero);
        Assert.True(positiveZero.Equals((object)negativeZero));
        Assert.Equal(positiveZero.GetHashCode(), negativeZero.GetHashCode());
        Assert.Equal((BFloat16)1.5f, (BFloat16)1.5f);
        Assert.NotEqual((BFloat16)1.5f, (BFloat16)(-1.5f));
        Assert.False(positiveZero.Equals("0"));
    }

    [Fact]
    public void BFloat16_ToString_FormatsTheFloatValue()
    {
        Assert.Equal(1.5f.ToString(), ((BFloat16)1.5f).ToString());
        Assert.Equal(float.NaN.ToString(), ((BFloat16)float.NaN).ToString());
    }

    [Fact]
    public void Half_FromFloat_RoundsLikeNumPy()
    {
        // numpy.float16(0.1) == 0.0999755859375 and numpy.float16(65519) == 65504, numpy.float16(65520) == inf.
        Assert.Equal(0.0999755859375f, (float)Tensor.FromArray([(Half)0.1f]).ToArray<Half>()[0]);
        Assert.Equal(65504f, (float)(Half)65519f);
        Assert.Equal(float.PositiveInfinity, (float)(Half)65520f);
    }

    private static void AssertRoundTrip<T>(T[] values, TensorDataType expectedDataType)
        where T : unmanaged
    {
        var tensor = Tensor.FromArray(values, 2, 3);

        Assert.Equal(expectedDataType, tensor.DataType);
        Assert.Equal([2L, 3L], tensor.Shape);
        Assert.Equal(6, tensor.ElementCount);
        Assert.Equal(6 * expectedDataType.GetElementSize(), tensor.Data.Length);
        Assert.Equal(values, tensor.ToArray<T>());
        Assert.Equal(values, tensor.AsSpan<T>().ToArray());
        Assert.Equal(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), tensor.Data.ToArray());
        Assert.Equal($"Tensor({expectedDataType.ToName()}, [2, 3])", tensor.ToString());
    }
}
