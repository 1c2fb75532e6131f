using System.Text;
using AccelBroker.Tests.Isolation.Corpus;
using Xunit;

namespace AccelBroker.Tests.Isolation;

/// <summary>The CRC a bomb's entry declares must be the CRC of what it inflates to, computed without inflating it.</summary>
public sealed class Crc32Tests
{
    [Fact]
    public void TheCheckValueIsZipsCrc32()
    {
        Assert.Equal(0xCBF43926u, Crc32.Of(Encoding.ASCII.GetBytes("123456789")));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1000)]
    public void ARepeatedBlocksCrcEqualsTheCrcOfTheRepetition(int times)
    {
        byte[] block = Encoding.ASCII.GetBytes("# a comment line\n");
        byte[] repeated = [.. Enumerable.Repeat(block, times).SelectMany(b => b)];

        Assert.Equal(Crc32.Of(repeated), Crc32.Repeated(Crc32.Of(block), block.Length, times));
    }

    [Fact]
    public void CombiningTwoCrcsEqualsTheCrcOfTheConcatenation()
    {
        byte[] a = [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 7))];
        byte[] b = [.. Enumerable.Range(0, 1234).Select(i => (byte)(i * 13 + 1))];

        Assert.Equal(Crc32.Of([.. a, .. b]), Crc32.Combine(Crc32.Of(a), Crc32.Of(b), b.Length));
    }
}
