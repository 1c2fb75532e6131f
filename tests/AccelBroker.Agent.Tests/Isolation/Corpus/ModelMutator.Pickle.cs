using System.Text;

namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>Mutations of data.pkl (the module's pickled state) and of the version record.</summary>
internal sealed partial class ModelMutator
{
    // 2^64 overflows std::stoull; the rest are too new, negative, empty or not numbers at all. stoull stops at the
    // first non-digit, so libtorch 2.10 reads "3.5" and "3\n4" as version 3 and loads them.
    private static readonly string[] AbsurdVersions =
    [
        "18446744073709551616", "18446744073709551615", "9223372036854775808", "-1", "99999", "0", "", "3.5", "abc", "3\n4", " ",
    ];

    private static readonly (string Module, string Name)[] UnknownGlobals =
    [
        ("__torch__.no.such.module", "Linear"),
        ("torch._utils", "_rebuild_nothing_v9"),
        ("collections", "NoSuchDict"),
        ("os", "system"),
        ("builtins", "eval"),
        ("torch", "NoSuchStorage"),
    ];

    private static string UnknownGlobal(ModelArchive archive, Random random)
    {
        ArchiveEntry pickle = archive.Find("data.pkl")!;
        PickleOp global = Pick(Globals(archive), random);
        string before = Encoding.ASCII.GetString(pickle.Data, global.ArgumentOffset, global.ArgumentLength).TrimEnd('\n');
        (string module, string name) = random.Next(3) == 0
            ? (before.Split('\n')[0], before.Split('\n')[1] + "Missing")
            : Pick(UnknownGlobals, random);
        // GLOBAL's argument ends at its second newline and protocol 2 has no frames, so its length can change freely.
        byte[] text = Encoding.ASCII.GetBytes($"{module}\n{name}\n");
        archive.Replace(pickle.WithData([.. pickle.Data.AsSpan(0, global.ArgumentOffset), .. text, .. pickle.Data.AsSpan(global.End)]));
        return $"data.pkl GLOBAL at {global.Offset} '{before.Replace('\n', '.')}' renamed '{module}.{name}'";
    }

    private static string AbsurdVersion(ModelArchive archive, Random random)
    {
        ArchiveEntry version = archive.Find("version")!;
        // Half the cases get the value the fuzzer found; the others any of the list.
        string value = random.Next(2) == 0 ? AbsurdVersions[0] : Pick(AbsurdVersions, random);
        archive.Replace(version.WithData(Encoding.ASCII.GetBytes(value + "\n")));
        return $"version '{Encoding.ASCII.GetString(version.Data).Trim()}' set to '{value.Replace("\n", "\\n")}'";
    }

    private static string PickleByteFlips(ModelArchive archive, Random random)
    {
        ArchiveEntry pickle = archive.Find("data.pkl")!;
        archive.Replace(pickle.WithData(FlipBytes(pickle.Data, random, random.Next(1, 9), out string flipped)));
        return $"data.pkl: {flipped}";
    }

    private static List<PickleOp> Globals(ModelArchive archive) =>
        archive.Find("data.pkl") is { } pickle ? [.. PickleOp.Walk(pickle.Data).Where(op => op.Code == PickleOp.Global)] : [];
}
