using System.IO.Compression;

namespace AccelBroker.Agent.Isolation;

/// <summary>
/// What a TorchScript archive declares before libtorch reads it. libtorch allocates each record at the
/// uncompressed size its zip entry declares (and fails when the data disagrees), so these sizes bound what a
/// load takes: a deflated gigabyte in a one-megabyte file is seen here, before any of it is allocated.
/// </summary>
internal sealed record ModelArchive(long DeclaredBytes, long StorageBytes)
{
    /// <summary>Reads the zip directory; null when it is not one .NET can read (libtorch then gives its own reason).</summary>
    public static ModelArchive? Inspect(string path)
    {
        try
        {
            using ZipArchive zip = ZipFile.OpenRead(path);
            long declared = 0;
            long storages = 0;
            foreach (ZipArchiveEntry entry in zip.Entries)
            {
                declared = SaturatingAdd(declared, entry.Length);
                // Tensor storages: what the loaded module keeps (data/N for weights, constants/N for constants).
                if (IsStorage(entry.FullName))
                {
                    storages = SaturatingAdd(storages, entry.Length);
                }
            }

            return new ModelArchive(declared, storages);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or NotSupportedException)
        {
            return null;
        }
    }

    private static bool IsStorage(string name)
    {
        int slash = name.IndexOf('/', StringComparison.Ordinal);
        string inner = slash >= 0 ? name[(slash + 1)..] : name;
        return inner.StartsWith("data/", StringComparison.Ordinal) || inner.StartsWith("constants/", StringComparison.Ordinal);
    }

    private static long SaturatingAdd(long a, long b) => b > long.MaxValue - a ? long.MaxValue : a + b;
}
