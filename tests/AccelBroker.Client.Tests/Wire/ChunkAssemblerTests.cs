using AccelBroker.Protocol.Wire;
using Xunit;

namespace AccelBroker.Tests.Wire;

public sealed class ChunkAssemblerTests
{
    [Fact]
    public void ChunksThatStraddleTensorsAndEmptyTensorsLandInOrder()
    {
        var assembler = new ChunkAssembler([3, 0, 5, 0]);
        byte[] all = [1, 2, 3, 4, 5, 6, 7, 8];

        Assert.True(assembler.TryAppend(all.AsSpan(0, 2)));
        Assert.True(assembler.TryAppend(all.AsSpan(2, 4)));
        Assert.True(assembler.TryAppend(all.AsSpan(6, 2)));

        Assert.Equal(8, assembler.Received);
        Assert.Equal(new byte[] { 1, 2, 3 }, assembler.Buffers[0].ToArray());
        Assert.True(assembler.Buffers[1].IsEmpty);
        Assert.Equal(new byte[] { 4, 5, 6, 7, 8 }, assembler.Buffers[2].ToArray());
        Assert.True(assembler.Buffers[3].IsEmpty);
    }

    [Fact]
    public void MoreBytesThanAnnouncedAreRefusedWithoutWritingAny()
    {
        var assembler = new ChunkAssembler([2]);

        Assert.False(assembler.TryAppend([1, 2, 3]));
        Assert.Equal(0, assembler.Received);
        Assert.True(assembler.TryAppend([1, 2]));
        Assert.False(assembler.TryAppend([9]));
    }
}
