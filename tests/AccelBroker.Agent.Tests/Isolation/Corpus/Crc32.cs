namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>
/// CRC-32 (the zip polynomial), including the CRC of content repeated billions of times without producing it: a
/// decompression bomb's entry must carry the right CRC or a reader that checks it refuses the bomb for the wrong
/// reason. The combination follows zlib's crc32_combine (multiplication modulo the polynomial).
/// </summary>
internal static class Crc32
{
    private const uint Polynomial = 0xEDB88320;
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Of(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    /// <summary>The CRC-32 of A followed by B, from the CRC of each and B's length.</summary>
    public static uint Combine(uint crcA, uint crcB, long lengthB) =>
        MultiplyModP(XPowerEightN(lengthB), crcA) ^ crcB;

    /// <summary>The CRC-32 of a block of <paramref name="length"/> bytes whose CRC is <paramref name="crc"/>, repeated <paramref name="times"/> times.</summary>
    public static uint Repeated(uint crc, long length, long times)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(times);
        uint result = 0; // the CRC of nothing
        long resultLength = 0;
        uint power = crc; // the CRC of the block repeated 2^k times
        long powerLength = length;
        for (long t = times; t > 0; t >>= 1)
        {
            if ((t & 1) != 0)
            {
                result = resultLength == 0 ? power : Combine(result, power, powerLength);
                resultLength += powerLength;
            }

            if (t > 1)
            {
                power = Combine(power, power, powerLength);
                powerLength *= 2;
            }
        }

        return result;
    }

    // a * b modulo the polynomial, bit-reflected as the CRC register is.
    private static uint MultiplyModP(uint a, uint b)
    {
        uint m = 1u << 31;
        uint p = 0;
        while (m != 0)
        {
            if ((a & m) != 0)
            {
                p ^= b;
            }

            m >>= 1;
            b = (b & 1) != 0 ? (b >> 1) ^ Polynomial : b >> 1;
        }

        return p;
    }

    // x^(8n) modulo the polynomial: appending n zero bytes multiplies the register by it.
    private static uint XPowerEightN(long n)
    {
        uint p = 1u << 31; // x^0
        uint square = 1u << 30; // x^1, squared as the loop walks n's bits
        for (int k = 0; k < 3; k++)
        {
            square = MultiplyModP(square, square);
        }

        for (; n > 0; n >>= 1)
        {
            if ((n & 1) != 0)
            {
                p = MultiplyModP(square, p);
            }

            square = MultiplyModP(square, square);
        }

        return p;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
