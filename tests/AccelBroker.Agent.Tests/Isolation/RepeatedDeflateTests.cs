using System.IO.Compression;
using System.Text;
using AccelBroker.Tests.Isolation.Corpus;
using Xunit;

namespace AccelBroker.Tests.Isolation;

/// <summary>A bomb built from repeated deflate segments inflates to exactly its pattern, at a bomb's ratio.</summary>
public sealed class RepeatedDeflateTests
{
    [Theory]
    [InlineData("\0", 0)]
    [InlineData("\0", 1000)]
    [InlineData("\0", 3 << 20)]
    [InlineData("# comment\n", (5 << 20) + 3)]
    [InlineData("xyz", (1 << 20) - 1)]
    public void ItInflatesToThePatternRepeatedToTheLength(string pattern, int length)
    {
        byte[] unit = Encoding.ASCII.GetBytes(pattern);
        byte[] expected = new byte[length];
        for (int i = 0; i < length; i++)
        {
            expected[i] = unit[i % unit.Length];
        }

        DeflatedContent content = RepeatedDeflate.Build(unit, length);

        Assert.Equal(length, content.Length);
        Assert.Equal(Crc32.Of(expected), content.Crc);
        using var inflate = new DeflateStream(new MemoryStream(content.Compressed), CompressionMode.Decompress);
        using var inflated = new MemoryStream();
        inflate.CopyTo(inflated);
        Assert.Equal(expected, inflated.ToArray());
    }

    [Fact]
    public void A256MiBBlockOfZerosDeflatesToWellUnderAMegabyte()
    {
        DeflatedContent content = RepeatedDeflate.Build([0], 256L << 20);

        Assert.InRange(content.Compressed.Length, 1, 1 << 20);
        Assert.Equal(Crc32.Repeated(Crc32.Of(new byte[1]), 1, 256L << 20), content.Crc);
    }
}
