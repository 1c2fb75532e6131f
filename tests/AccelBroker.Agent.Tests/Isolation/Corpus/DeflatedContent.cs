namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>An entry's content already deflated: the zip writer stores these bytes as they are.</summary>
/// <param name="Compressed">The raw deflate stream.</param>
/// <param name="Length">What it inflates to, in bytes: the size the archive declares.</param>
/// <param name="Crc">The CRC-32 of the inflated content.</param>
internal sealed record DeflatedContent(byte[] Compressed, long Length, uint Crc);
