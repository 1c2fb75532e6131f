using System.Buffers.Binary;
using AccelBroker.Tests.Infrastructure;

namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>
/// The hand-made hazards of the crash-isolation tests: two committed by tests/models/make_hazards.py (they need
/// torch.jit.script), the rest made here from demo_mlp.pt. Only <see cref="MarkerMlp"/> is a healthy model.
/// </summary>
internal static class SpecialModels
{
    public const long Bomb256MiB = 256L << 20;
    public const long Bomb1GiB = 1L << 30;
    public const long Bomb4GiB = 4L << 30;

    /// <summary>Bytes a short storage keeps of its record.</summary>
    public const int ShortRecordBytes = 16;

    // demo_mlp's first Linear: weight [64, 16], 1024 float32 in data/0.
    private const int MarkerFloats = 1024;

    // Marker element k has these bits plus k: about 0.0136, so the model's outputs stay finite, and no float pattern
    // a healthy computation produces is likely to count up by one ulp four times in a row.
    private const int MarkerBase = 0x3C5EED00;

    /// <summary>Loads, warms up on zeros, and dies of SIGSEGV on an input whose sum is positive (see make_hazards.py).</summary>
    public static string CrashOnRunPath => Fixtures.Path("hazards/crash_on_run.pt");

    /// <summary>Returns its 64 KiB parameter, of which 16 bytes are in the file: the rest is whatever memory follows.</summary>
    public static string ShortStoragePath => Fixtures.Path("hazards/short_storage.pt");

    /// <summary>demo_mlp with data/0 (its first weight, 4 KiB) cut to 16 bytes.</summary>
    public static byte[] ShortStorageMlp()
    {
        ModelArchive archive = DemoMlp();
        ArchiveEntry weight = archive.Find("data/0")!;
        archive.Replace(weight.WithData(weight.Data[..ShortRecordBytes]));
        return archive.ToBytes();
    }

    /// <summary>
    /// demo_mlp whose first weight is the marker pattern: a neighbour whose weights another tenant's output must
    /// never contain (see <see cref="ContainsMarker"/>).
    /// </summary>
    public static byte[] MarkerMlp()
    {
        var weight = new byte[MarkerFloats * sizeof(float)];
        for (int k = 0; k < MarkerFloats; k++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(weight.AsSpan(k * sizeof(float)), MarkerBase + k);
        }

        ModelArchive archive = DemoMlp();
        archive.Replace(archive.Find("data/0")!.WithData(weight));
        return archive.ToBytes();
    }

    /// <summary>Whether <paramref name="bytes"/> hold four consecutive marker elements (16 bytes of the marker) at a 4-byte boundary.</summary>
    public static bool ContainsMarker(ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i + 16 <= bytes.Length; i += 4)
        {
            int first = BinaryPrimitives.ReadInt32LittleEndian(bytes[i..]);
            if (first is < MarkerBase or > MarkerBase + MarkerFloats - 4)
            {
                continue;
            }

            if (BinaryPrimitives.ReadInt32LittleEndian(bytes[(i + 4)..]) == first + 1
                && BinaryPrimitives.ReadInt32LittleEndian(bytes[(i + 8)..]) == first + 2
                && BinaryPrimitives.ReadInt32LittleEndian(bytes[(i + 12)..]) == first + 3)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// demo_mlp (about 10 KB) whose data/0 inflates to <paramref name="zeros"/> zero bytes: a 4 GiB bomb is a
    /// file of about 4 MB. Only the record changes; data.pkl still declares 1024 elements.
    /// </summary>
    public static MutatedModel DecompressionBomb(long zeros) =>
        new ModelMutator(zeroBombBytes: zeros).Mutate("demo_mlp", File.ReadAllBytes(Fixtures.Path("demo_mlp.pt")), MutationKind.ZeroBomb, seed: 0);

    private static ModelArchive DemoMlp() => ModelArchive.Read(File.ReadAllBytes(Fixtures.Path("demo_mlp.pt")));
}
