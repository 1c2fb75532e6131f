using System.IO.Compression;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Isolation.Corpus;
using Xunit;

namespace AccelBroker.Tests.Isolation;

/// <summary>The hand-made hazards are what they claim, checked from their bytes alone (none is loaded here).</summary>
public sealed class SpecialModelsTests
{
    [Theory]
    [InlineData(SpecialModels.Bomb256MiB)]
    [InlineData(SpecialModels.Bomb1GiB)]
    [InlineData(SpecialModels.Bomb4GiB)]
    public void ABombIsASmallFileThatDeclaresItsWholeSize(long zeros)
    {
        MutatedModel bomb = SpecialModels.DecompressionBomb(zeros);

        // Deflate's best ratio is about 1032:1; the rest of demo_mlp is about 10 KB.
        Assert.InRange(bomb.Bytes.Length, 1, (zeros / 1000) + (64 << 10));
        using var zip = new ZipArchive(new MemoryStream(bomb.Bytes));
        ZipArchiveEntry record = zip.GetEntry("archive/data/0")!;
        Assert.Equal(zeros, record.Length);
        Assert.All(zip.Entries.Where(e => e != record), e => Assert.Equal(e.Length, e.CompressedLength));
    }

    [Fact]
    public void The256MiBBombInflatesToZerosWithTheCrcItDeclares()
    {
        MutatedModel bomb = SpecialModels.DecompressionBomb(SpecialModels.Bomb256MiB);
        using var zip = new ZipArchive(new MemoryStream(bomb.Bytes));
        ZipArchiveEntry record = zip.GetEntry("archive/data/0")!;

        using Stream content = record.Open();
        byte[] buffer = new byte[1 << 20];
        long total = 0;
        bool allZero = true;
        for (int read; (read = content.Read(buffer)) > 0; total += read)
        {
            allZero &= !buffer.AsSpan(0, read).ContainsAnyExcept((byte)0);
        }

        Assert.Equal(SpecialModels.Bomb256MiB, total);
        Assert.True(allZero);
        Assert.Equal(Crc32.Repeated(Crc32.Of(new byte[1 << 20]), 1 << 20, 256), record.Crc32);
    }

    [Fact]
    public void TheShortStorageMlpKeeps16BytesOfItsFirstWeight()
    {
        ModelArchive archive = ModelArchive.Read(SpecialModels.ShortStorageMlp());
        ModelArchive original = ModelArchive.Read(File.ReadAllBytes(Fixtures.Path("demo_mlp.pt")));

        Assert.Equal(SpecialModels.ShortRecordBytes, archive.Find("data/0")!.Length);
        Assert.Equal(original.Find("data/0")!.Data[..SpecialModels.ShortRecordBytes], archive.Find("data/0")!.Data);
        Assert.Equal(original.Find("data.pkl")!.Data, archive.Find("data.pkl")!.Data);
    }

    [Fact]
    public void TheMarkerIsInTheMarkerMlpsWeightsAndNowhereInTheCommittedModels()
    {
        ModelArchive marked = ModelArchive.Read(SpecialModels.MarkerMlp());

        Assert.True(SpecialModels.ContainsMarker(marked.Find("data/0")!.Data));
        Assert.Equal(4096, marked.Find("data/0")!.Length);
        Assert.All(ModelMutator.CommittedModels, m => Assert.False(SpecialModels.ContainsMarker(File.ReadAllBytes(Fixtures.Path(m + ".pt")))));
        Assert.False(SpecialModels.ContainsMarker(marked.Find("data/0")!.Data.AsSpan(4, 8)));
    }

    [Theory]
    [InlineData("crash_on_run", 1L << 26)]
    [InlineData("short_storage", 1L << 14)]
    public void TheCommittedHazardsDeclareFarMoreThanTheir16ByteRecord(string name, long declared)
    {
        string path = name == "crash_on_run" ? SpecialModels.CrashOnRunPath : SpecialModels.ShortStoragePath;
        ModelArchive archive = ModelArchive.Read(File.ReadAllBytes(path));

        Assert.Equal(SpecialModels.ShortRecordBytes, archive.Find("data/0")!.Length);
        // BININT (J) with the declared element count: once for the storage, once for the size tuple.
        byte[] pickle = archive.Find("data.pkl")!.Data;
        int[] declaredInts = [.. PickleOp.Walk(pickle).Where(op => op.Code == (byte)'J').Select(op => BitConverter.ToInt32(pickle, op.ArgumentOffset))];
        Assert.Equal(2, declaredInts.Count(v => v == declared));
    }
}
