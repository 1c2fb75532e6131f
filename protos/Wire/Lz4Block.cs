using K4os.Compression.LZ4;

namespace AccelBroker.Protocol.Wire;

/// <summary>LZ4 block compression applied only where it shrinks the bytes.</summary>
internal static class Lz4Block
{
    /// <summary>
    /// The most an LZ4 block can expand: every byte of a match's length run adds at most 255 bytes of output. A
    /// claim beyond it cannot be true, so it is refused before the claimed size is allocated.
    /// </summary>
    public const int MaxExpansion = 255;

    /// <summary>
    /// Compresses <paramref name="raw"/> and returns the compressed bytes, or <see langword="null"/> when
    /// compression would not make them smaller (the caller then sends them raw).
    /// </summary>
    public static byte[]? TryCompress(ReadOnlySpan<byte> raw)
    {
        if (raw.Length < 64)
        {
            return null;
        }

        byte[] target = new byte[LZ4Codec.MaximumOutputSize(raw.Length)];
        int written = LZ4Codec.Encode(raw, target, LZ4Level.L00_FAST);
        if (written <= 0 || written >= raw.Length)
        {
            return null;
        }

        Array.Resize(ref target, written);
        return target;
    }

    /// <summary>
    /// Decompresses into a new array of exactly <paramref name="rawLength"/> bytes, allocated only once the
    /// claimed length is one <paramref name="compressed"/> could expand to.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is not an LZ4 block of that length.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> compressed, long rawLength)
    {
        if (rawLength < 0 || rawLength > Array.MaxLength)
        {
            throw new InvalidDataException($"LZ4 raw length {rawLength} is out of range");
        }

        if (rawLength > (long)compressed.Length * MaxExpansion)
        {
            throw new InvalidDataException(
                $"{compressed.Length} LZ4 bytes cannot expand to the claimed {rawLength} bytes (LZ4 expands at most {MaxExpansion}x)");
        }

        byte[] target = new byte[rawLength];
        Decompress(compressed, target);
        return target;
    }

    /// <summary>Decompresses into <paramref name="target"/>, which must be exactly the raw length.</summary>
    /// <exception cref="InvalidDataException">The data is not an LZ4 block of that length.</exception>
    public static void Decompress(ReadOnlySpan<byte> compressed, Span<byte> target)
    {
        int decoded = LZ4Codec.Decode(compressed, target);
        if (decoded != target.Length)
        {
            throw new InvalidDataException($"LZ4 data decoded to {(decoded < 0 ? "an error" : decoded + " bytes")}, expected {target.Length} bytes");
        }
    }
}
