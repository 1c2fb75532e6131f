using AccelBroker.Tests.Infrastructure;

namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>
/// A seeded, deterministic generator of broken TorchScript files: the crash corpus of issue 9. Given the bytes of a
/// committed model and a seed it makes one mutant of a chosen <see cref="MutationKind"/>; <see cref="Corpus"/>
/// cycles over the committed models and every kind. Only System.IO.Compression is used: no Python at test time.
/// </summary>
/// <remarks>
/// Archive-level mutations read the records with <see cref="ModelArchive"/>, change them, and write every record back
/// stored and 64-byte aligned with <see cref="ZipWriter"/>; the identity rewrite loads and computes what the original
/// does (checked in-process by ModelMutatorTests, the only rewrite ever loaded in the test host). Byte-level mutations
/// (<see cref="MutationKind.RandomByteFlips"/>, <see cref="MutationKind.TruncateFile"/>) damage the original file.
/// Never load a mutant in the test process: crashing whoever loads it is what they are for.
/// </remarks>
internal sealed partial class ModelMutator
{
    /// <summary>data/0's size in the corpus's <see cref="MutationKind.ZeroBomb"/> cases: big enough to notice, small enough for CI.</summary>
    public const long DefaultZeroBombBytes = 64L << 20;

    public const long CommentBombBytes = 256L << 20;
    public const int NestingDepth = 50_000;
    public const int AdditionTerms = 100_000;

    private static readonly MutationKind[] AllKinds = Enum.GetValues<MutationKind>();

    private readonly long _zeroBombBytes;

    /// <param name="zeroBombBytes">What data/0 inflates to in <see cref="MutationKind.ZeroBomb"/> mutants.</param>
    public ModelMutator(long zeroBombBytes = DefaultZeroBombBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(zeroBombBytes);
        _zeroBombBytes = zeroBombBytes;
    }

    public static IReadOnlyList<MutationKind> Kinds => AllKinds;

    /// <summary>
    /// The committed models the corpus is made from: tests/models/*.pt (not the hazards/ folder, whose models are
    /// broken already), by name.
    /// </summary>
    public static IReadOnlyList<string> CommittedModels =>
        [.. Directory.GetFiles(Fixtures.Path(""), "*.pt").Select(p => Path.GetFileNameWithoutExtension(p)!).Order(StringComparer.Ordinal)];

    /// <summary>
    /// <paramref name="count"/> mutants: case i has kind <c>Kinds[i % Kinds.Count]</c>, made from one of the committed
    /// models the kind applies to, in rotation, so any count of at least <see cref="Kinds"/>.Count covers every kind
    /// (and twice that covers each with two models where two apply). The same seed gives the same corpus.
    /// </summary>
    public IEnumerable<MutatedModel> Corpus(int seed, int count)
    {
        var random = new Random(seed);
        var models = CommittedModels.Select(name => (Name: name, Bytes: File.ReadAllBytes(Fixtures.Path(name + ".pt")))).ToList();
        var archives = models.Select(m => ModelArchive.Read(m.Bytes)).ToList();
        for (int i = 0; i < count; i++)
        {
            MutationKind kind = AllKinds[i % AllKinds.Length];
            int[] applicable = [.. Enumerable.Range(0, models.Count).Where(m => AppliesTo(kind, archives[m]))];
            // Rotated by the kind's index too, so the first cycle already spreads over every model.
            int model = applicable[((i / AllKinds.Length) + (i % AllKinds.Length)) % applicable.Length];
            // Drawn whether or not it is used, so one case's seed does not depend on the kinds before it.
            int caseSeed = random.Next();
            yield return Mutate(models[model].Name, models[model].Bytes, kind, caseSeed);
        }
    }

    /// <summary>Whether <paramref name="kind"/> can break <paramref name="archive"/> (a model without weights has no data record to cut).</summary>
    public static bool AppliesTo(MutationKind kind, ModelArchive archive) => kind switch
    {
        MutationKind.RemoveCodeFile or MutationKind.EmptyCodeFile or MutationKind.CommentBomb => archive.CodeFiles.Any(),
        MutationKind.SwapCodeWithData => archive.CodeFiles.Any() && archive.DataRecords.Any(),
        MutationKind.UnknownGlobal => Globals(archive).Count > 0,
        MutationKind.AbsurdVersion => archive.Find("version") is not null,
        MutationKind.PickleByteFlips => archive.Find("data.pkl") is { Length: > 0 },
        MutationKind.TruncateDataRecord => archive.DataRecords.Any(r => r.Length > 4),
        MutationKind.EmptyDataRecord => archive.DataRecords.Any(r => r.Length > 0),
        MutationKind.DuplicateDataRecord => DifferentLengthPairs(archive).Count > 0,
        MutationKind.SwapWeightAndBias => WeightBiasPairs(archive).Count > 0,
        MutationKind.NestedParentheses or MutationKind.LongAdditionChain => archive.CodeFilesWithForward.Any(),
        MutationKind.ZeroBomb => archive.Find("data/0") is not null,
        _ => true,
    };

    /// <summary>One mutant of <paramref name="model"/>; the same arguments always give the same bytes.</summary>
    /// <param name="source">The model's name, for the description.</param>
    /// <param name="model">The bytes of a TorchScript file.</param>
    /// <param name="kind">How to break it; it must apply (<see cref="AppliesTo"/>).</param>
    /// <param name="seed">Seeds the <see cref="Random"/> that picks records, offsets and values.</param>
    public MutatedModel Mutate(string source, byte[] model, MutationKind kind, int seed)
    {
        var random = new Random(seed);
        switch (kind)
        {
            case MutationKind.RandomByteFlips:
                return Result(source, kind, seed, FlipBytes(model, random, random.Next(1, 17), out string flipped), flipped);
            case MutationKind.TruncateFile:
                int length = random.Next(0, model.Length);
                return Result(source, kind, seed, model[..length], $"file cut to {length} of {model.Length} bytes");
        }

        ModelArchive archive = ModelArchive.Read(model);
        if (!AppliesTo(kind, archive))
        {
            throw new ArgumentException($"{kind} does not apply to {source}", nameof(kind));
        }

        string description = kind switch
        {
            MutationKind.RemoveCodeFile => RemoveCodeFile(archive, random),
            MutationKind.EmptyCodeFile => EmptyCodeFile(archive, random),
            MutationKind.SwapCodeWithData => SwapCodeWithData(archive, random),
            MutationKind.UnknownGlobal => UnknownGlobal(archive, random),
            MutationKind.AbsurdVersion => AbsurdVersion(archive, random),
            MutationKind.PickleByteFlips => PickleByteFlips(archive, random),
            MutationKind.TruncateDataRecord => TruncateDataRecord(archive, random),
            MutationKind.EmptyDataRecord => EmptyDataRecord(archive, random),
            MutationKind.DuplicateDataRecord => DuplicateDataRecord(archive, random),
            MutationKind.SwapWeightAndBias => SwapWeightAndBias(archive, random),
            MutationKind.NestedParentheses => NestedParentheses(archive, random),
            MutationKind.LongAdditionChain => LongAdditionChain(archive, random),
            MutationKind.CommentBomb => CommentBomb(archive, random),
            MutationKind.ZeroBomb => ZeroBomb(archive, _zeroBombBytes),
            MutationKind.DeleteRandomRecord => DeleteRandomRecord(archive, random),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        return Result(source, kind, seed, archive.ToBytes(), description);
    }

    private static MutatedModel Result(string source, MutationKind kind, int seed, byte[] bytes, string description) =>
        new(source, kind, seed, description, bytes);

    private static T Pick<T>(IReadOnlyList<T> items, Random random) => items[random.Next(items.Count)];

    private static string Relative(ModelArchive archive, ArchiveEntry entry) => entry.Name[archive.Prefix.Length..];

    private static byte[] FlipBytes(byte[] bytes, Random random, int flips, out string description)
    {
        byte[] result = (byte[])bytes.Clone();
        var offsets = new SortedSet<int>();
        flips = Math.Min(flips, result.Length);
        while (offsets.Count < flips)
        {
            // Distinct offsets, each XORed with a non-zero mask: every flip changes its byte.
            int offset = random.Next(result.Length);
            if (offsets.Add(offset))
            {
                result[offset] ^= (byte)random.Next(1, 256);
            }
        }

        description = $"{flips} byte flips at {string.Join(", ", offsets)}";
        return result;
    }

    private static string DeleteRandomRecord(ModelArchive archive, Random random)
    {
        ArchiveEntry victim = Pick(archive.Entries, random);
        archive.Entries.Remove(victim);
        return $"deleted {Relative(archive, victim)}";
    }
}
