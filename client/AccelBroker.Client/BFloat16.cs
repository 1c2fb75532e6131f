namespace AccelBroker.Client;

/// <summary>
/// A 16-bit brain floating-point value: the upper half of an IEEE 754 float32
/// (1 sign bit, 8 exponent bits, 7 mantissa bits).
/// </summary>
/// <remarks>
/// .NET 10 has no public BFloat16 type. Arithmetic is done by converting to <see cref="float"/>.
/// Equality follows <see cref="System.Half"/>: <see cref="Equals(BFloat16)"/> treats NaN as equal to NaN,
/// while <c>==</c> follows IEEE 754 (NaN is never equal); +0 and -0 are equal in both.
/// </remarks>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    private BFloat16(ushort rawValue)
    {
        RawValue = rawValue;
    }

    /// <summary>Gets the bit pattern of the value.</summary>
    public ushort RawValue { get; }

    /// <summary>Creates a value from its bit pattern.</summary>
    /// <param name="rawValue">Sign, exponent and mantissa bits, as in the upper 16 bits of a float32.</param>
    /// <returns>The value with exactly these bits.</returns>
    public static BFloat16 FromRawValue(ushort rawValue) => new(rawValue);

    /// <summary>Converts a float32 to the nearest bfloat16, rounding ties to even. NaN stays NaN (with its sign).</summary>
    /// <param name="value">The value to convert.</param>
    public static explicit operator BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            // Plain truncation could clear every remaining mantissa bit and turn NaN into infinity; force the quiet bit.
            return new BFloat16((ushort)((bits >> 16) | 0x0040));
        }

        // Adding 0x7FFF plus the lowest kept bit rounds to nearest, ties to even; a carry into the exponent is correct
        // (it rounds up to the next binade or to infinity).
        uint lowestKeptBit = (bits >> 16) & 1;
        return new BFloat16((ushort)((bits + 0x7FFFu + lowestKeptBit) >> 16));
    }

    /// <summary>Converts a bfloat16 to float32; this is exact.</summary>
    /// <param name="value">The value to convert.</param>
    public static explicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.RawValue << 16);

    /// <summary>Compares two values as IEEE 754 does: NaN is not equal to anything, +0 equals -0.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator ==(BFloat16 left, BFloat16 right) => (float)left == (float)right;

    /// <summary>Compares two values as IEEE 754 does: NaN is unequal to everything, +0 equals -0.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    public static bool operator !=(BFloat16 left, BFloat16 right) => (float)left != (float)right;

    /// <summary>Gets whether both values are equal, or both are NaN.</summary>
    /// <param name="other">The value to compare with.</param>
    /// <returns><see langword="true"/> if the values are equal.</returns>
    public bool Equals(BFloat16 other) => ((float)this).Equals((float)other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ((float)this).GetHashCode();

    /// <summary>Formats the value as its float32 equivalent, using the current culture.</summary>
    /// <returns>For example "1.5".</returns>
    public override string ToString() => ((float)this).ToString();
}
