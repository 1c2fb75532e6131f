using System.IO.Compression;
using AccelBroker.Agent.Isolation;
using AccelBroker.Tests.Infrastructure;
using Xunit;

namespace AccelBroker.Tests.Isolation;

public sealed class ModelArchiveTests
{
    [Fact]
    public void ACommittedModelDeclaresItsRecordsAndItsStoragesAreItsWeights()
    {
        ModelArchive archive = ModelArchive.Inspect(Fixtures.Path("demo_mlp.pt"))!;
        // Linear(16,64) + Linear(64,8) in float32: weights and biases, each one data/N record.
        Assert.Equal(4 * ((16 * 64) + 64 + (64 * 8) + 8), archive.StorageBytes);
        Assert.True(archive.DeclaredBytes > archive.StorageBytes);
    }

    [Fact]
    public void ADeflatedRecordIsCountedAtItsUncompressedSize()
    {
        string path = Path.Combine(Path.GetTempPath(), $"accel-bomb-{Guid.NewGuid():N}.pt");
        try
        {
            using (ZipArchive zip = ZipFile.Open(path, ZipArchiveMode.Create))
            {
                using Stream record = zip.CreateEntry("bomb/data/0", CompressionLevel.SmallestSize).Open();
                byte[] zeros = new byte[1024 * 1024];
                for (int i = 0; i < 64; i++)
                {
                    record.Write(zeros);
                }
            }

            Assert.True(new FileInfo(path).Length < 1024 * 1024);
            ModelArchive archive = ModelArchive.Inspect(path)!;
            Assert.Equal(64L * 1024 * 1024, archive.StorageBytes);
            Assert.Equal(64L * 1024 * 1024, archive.DeclaredBytes);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BytesThatAreNotAZipAreLeftToLibtorchToRefuse()
    {
        string path = Path.Combine(Path.GetTempPath(), $"accel-notzip-{Guid.NewGuid():N}.pt");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        try
        {
            Assert.Null(ModelArchive.Inspect(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
