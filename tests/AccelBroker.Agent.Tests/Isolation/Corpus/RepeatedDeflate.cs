using System.IO.Compression;

namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>
/// A raw deflate stream of a short pattern repeated to any length (gigabytes of zeros, hundreds of megabytes of
/// comment lines), built in time proportional to its compressed size rather than its content.
/// </summary>
/// <remarks>
/// The pattern is compressed for two segments of at least the 32 KiB deflate window, each ended by a sync flush
/// (which byte-aligns the output). The second segment's bytes decode to one segment of content given a window that
/// holds the pattern in phase, and leave the window as they found it, so repeating them is a valid stream of any
/// number of segments. The remainder is an independent deflate stream appended after the last byte-aligned segment:
/// it references nothing before it, and its final block ends the whole stream.
/// </remarks>
internal static class RepeatedDeflate
{
    private const int MinSegmentBytes = 1 << 20;

    /// <summary>Deflates <paramref name="pattern"/> repeated (and cut) to <paramref name="length"/> bytes.</summary>
    public static DeflatedContent Build(ReadOnlySpan<byte> pattern, long length)
    {
        if (pattern.IsEmpty)
        {
            throw new ArgumentException("the pattern must not be empty", nameof(pattern));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int segmentLength = (MinSegmentBytes + pattern.Length - 1) / pattern.Length * pattern.Length;
        byte[] segment = Repeat(pattern, segmentLength);
        long segments = length / segmentLength;
        byte[] remainder = segment[..(int)(length - (segments * segmentLength))];

        using var output = new MemoryStream();
        if (segments > 0)
        {
            using var compressed = new MemoryStream();
            using (var deflate = new DeflateStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                deflate.Write(segment);
                deflate.Flush();
                long first = compressed.Length;
                deflate.Write(segment);
                deflate.Flush();
                byte[] all = compressed.ToArray();
                output.Write(all, 0, (int)first);
                for (long i = 1; i < segments; i++)
                {
                    output.Write(all, (int)first, (int)(all.Length - first));
                }
            }
        }

        using (var tail = new DeflateStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            tail.Write(remainder);
        }

        uint crc = Crc32.Repeated(Crc32.Of(segment), segmentLength, segments);
        crc = remainder.Length == 0 ? crc : segments == 0 ? Crc32.Of(remainder) : Crc32.Combine(crc, Crc32.Of(remainder), remainder.Length);
        return new DeflatedContent(output.ToArray(), length, crc);
    }

    private static byte[] Repeat(ReadOnlySpan<byte> pattern, int length)
    {
        var bytes = new byte[length];
        for (int offset = 0; offset < length; offset += pattern.Length)
        {
            pattern[..Math.Min(pattern.Length, length - offset)].CopyTo(bytes.AsSpan(offset));
        }

        return bytes;
    }
}
