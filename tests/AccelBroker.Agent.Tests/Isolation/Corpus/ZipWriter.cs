using System.Buffers.Binary;
using System.Text;

namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>
/// Writes a zip archive the way PyTorch's PyTorchStreamWriter does: entries in the given order, stored unless their
/// content is already deflated, no data descriptors, and (optionally) each entry's data aligned to 64 bytes with
/// padding in the local header's extra field. System.IO.Compression.ZipArchive can do neither the alignment nor an
/// entry whose content is a prepared deflate stream, so the format is written here; Zip64 records are added only when
/// a size or offset needs them.
/// </summary>
internal static class ZipWriter
{
    /// <summary>PyTorch aligns every record so that it can be used in place (mmap) without a copy.</summary>
    public const int PyTorchAlignment = 64;

    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint EndSignature = 0x06054b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const ushort Zip64ExtraId = 0x0001;
    private const ushort PaddingExtraId = 0x4246; // "FB", the id PyTorch's writer uses for its padding
    private const ushort Stored = 0;
    private const ushort Deflate = 8;
    private const ushort DosDate1980 = (0 << 9) | (1 << 5) | 1; // 1980-01-01

    public static byte[] Write(IReadOnlyList<ArchiveEntry> entries, int alignment = PyTorchAlignment)
    {
        using var output = new MemoryStream();
        using var central = new MemoryStream();
        foreach (ArchiveEntry entry in entries)
        {
            byte[] name = Encoding.UTF8.GetBytes(entry.Name);
            ReadOnlySpan<byte> data = entry.Deflated is { } d ? d.Compressed : entry.Data;
            uint crc = entry.Deflated?.Crc ?? Crc32.Of(entry.Data);
            ushort method = entry.Deflated is null ? Stored : Deflate;
            long offset = output.Position;
            // Compressed data is held in memory, so only the declared length can need 64 bits here.
            bool zip64 = entry.Length >= uint.MaxValue;
            byte[] extra = zip64 ? Zip64Extra(entry.Length, data.Length, offset: null) : [];
            if (alignment > 1)
            {
                extra = [.. extra, .. Padding(offset + 30 + name.Length + extra.Length, alignment)];
            }

            WriteLocalHeader(output, name, extra, method, crc, zip64 ? uint.MaxValue : (uint)data.Length, zip64 ? uint.MaxValue : (uint)entry.Length);
            output.Write(data);
            WriteCentralHeader(central, name, method, crc, data.Length, entry.Length, offset);
        }

        long centralOffset = output.Position;
        central.Position = 0;
        central.CopyTo(output);
        long centralSize = output.Position - centralOffset;
        bool zip64End = entries.Count >= ushort.MaxValue || centralOffset >= uint.MaxValue;
        if (zip64End)
        {
            long zip64EndOffset = output.Position;
            Span<byte> record = stackalloc byte[56];
            BinaryPrimitives.WriteUInt32LittleEndian(record, Zip64EndSignature);
            BinaryPrimitives.WriteInt64LittleEndian(record[4..], 44);
            BinaryPrimitives.WriteUInt16LittleEndian(record[12..], 45);
            BinaryPrimitives.WriteUInt16LittleEndian(record[14..], 45);
            BinaryPrimitives.WriteInt64LittleEndian(record[24..], entries.Count);
            BinaryPrimitives.WriteInt64LittleEndian(record[32..], entries.Count);
            BinaryPrimitives.WriteInt64LittleEndian(record[40..], centralSize);
            BinaryPrimitives.WriteInt64LittleEndian(record[48..], centralOffset);
            output.Write(record);
            Span<byte> locator = stackalloc byte[20];
            BinaryPrimitives.WriteUInt32LittleEndian(locator, Zip64LocatorSignature);
            BinaryPrimitives.WriteInt64LittleEndian(locator[8..], zip64EndOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);
            output.Write(locator);
        }

        Span<byte> end = stackalloc byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, EndSignature);
        ushort count = zip64End ? ushort.MaxValue : (ushort)entries.Count;
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], count);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], count);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], zip64End ? uint.MaxValue : (uint)centralSize);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], zip64End ? uint.MaxValue : (uint)centralOffset);
        output.Write(end);
        return output.ToArray();
    }

    private static void WriteLocalHeader(Stream output, byte[] name, byte[] extra, ushort method, uint crc, uint compressed, uint length)
    {
        Span<byte> header = stackalloc byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(header, LocalHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 45);
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], method);
        BinaryPrimitives.WriteUInt16LittleEndian(header[12..], DosDate1980);
        BinaryPrimitives.WriteUInt32LittleEndian(header[14..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[18..], compressed);
        BinaryPrimitives.WriteUInt32LittleEndian(header[22..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[26..], (ushort)name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[28..], (ushort)extra.Length);
        output.Write(header);
        output.Write(name);
        output.Write(extra);
    }

    private static void WriteCentralHeader(Stream central, byte[] name, ushort method, uint crc, long compressed, long length, long offset)
    {
        bool zip64 = length >= uint.MaxValue || compressed >= uint.MaxValue || offset >= uint.MaxValue;
        byte[] extra = zip64 ? Zip64Extra(length, compressed, offset) : [];
        Span<byte> header = stackalloc byte[46];
        BinaryPrimitives.WriteUInt32LittleEndian(header, CentralHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 45);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 45);
        BinaryPrimitives.WriteUInt16LittleEndian(header[10..], method);
        BinaryPrimitives.WriteUInt16LittleEndian(header[14..], DosDate1980);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], zip64 ? uint.MaxValue : (uint)compressed);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], zip64 ? uint.MaxValue : (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[28..], (ushort)name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[30..], (ushort)extra.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[42..], zip64 ? uint.MaxValue : (uint)offset);
        central.Write(header);
        central.Write(name);
        central.Write(extra);
    }

    // Zip64 extended information: the 64-bit sizes (and, in the central directory, the offset) that the header's
    // 32-bit fields mark as 0xFFFFFFFF.
    private static byte[] Zip64Extra(long length, long compressed, long? offset)
    {
        var extra = new byte[offset is null ? 20 : 28];
        BinaryPrimitives.WriteUInt16LittleEndian(extra, Zip64ExtraId);
        BinaryPrimitives.WriteUInt16LittleEndian(extra.AsSpan(2), (ushort)(extra.Length - 4));
        BinaryPrimitives.WriteInt64LittleEndian(extra.AsSpan(4), length);
        BinaryPrimitives.WriteInt64LittleEndian(extra.AsSpan(12), compressed);
        if (offset is { } o)
        {
            BinaryPrimitives.WriteInt64LittleEndian(extra.AsSpan(20), o);
        }

        return extra;
    }

    // An extra field that moves the data start from dataStart to the next multiple of alignment (an extra field
    // is at least its 4-byte header, so a short gap is widened by a whole alignment).
    private static byte[] Padding(long dataStart, int alignment)
    {
        int gap = (int)((alignment - (dataStart % alignment)) % alignment);
        if (gap == 0)
        {
            return [];
        }

        if (gap < 4)
        {
            gap += alignment;
        }

        var extra = new byte[gap];
        BinaryPrimitives.WriteUInt16LittleEndian(extra, PaddingExtraId);
        BinaryPrimitives.WriteUInt16LittleEndian(extra.AsSpan(2), (ushort)(gap - 4));
        extra.AsSpan(4).Fill((byte)'Z');
        return extra;
    }
}
