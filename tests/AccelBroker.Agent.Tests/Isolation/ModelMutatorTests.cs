using System.Buffers.Binary;
using AccelBroker.Client;
using AccelBroker.Tests.Infrastructure;
using AccelBroker.Tests.Isolation.Corpus;
using Xunit;

namespace AccelBroker.Tests.Isolation;

/// <summary>
/// The crash corpus generator, without an agent. Only identity rewrites are loaded in this process: a mutant would
/// take the test host down with it.
/// </summary>
public sealed class ModelMutatorTests
{
    private static readonly int KindCount = ModelMutator.Kinds.Count;

    public static TheoryData<string> Models => [.. ModelMutator.CommittedModels];

    // Kinds by name: MutationKind is internal, and a public test method cannot take it.
    public static TheoryData<string, string> ApplicableCases
    {
        get
        {
            var cases = new TheoryData<string, string>();
            foreach (string model in ModelMutator.CommittedModels)
            {
                ModelArchive archive = ModelArchive.Read(Bytes(model));
                foreach (MutationKind kind in ModelMutator.Kinds.Where(k => ModelMutator.AppliesTo(k, archive)))
                {
                    cases.Add(kind.ToString(), model);
                }
            }

            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void AnIdentityRewriteLoadsAndComputesWhatTheOriginalDoes(string model)
    {
        byte[] rewritten = ModelArchive.Read(Bytes(model)).ToBytes();
        Tensor[] inputs = Inputs(model);

        Tensor[] expected = LocalTorch.Run(Fixtures.Path(model + ".pt"), null, inputs);
        Tensor[] actual = LocalTorch.Run(rewritten, null, inputs);

        AssertSameTensors(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void AnUnalignedIdentityRewriteLoadsToo(string model)
    {
        // PyTorch aligns records to 64 bytes for mmap; libtorch 2.10's jit.load copies records and does not need it.
        byte[] rewritten = ModelArchive.Read(Bytes(model)).ToBytes(alignment: 1);
        Tensor[] inputs = Inputs(model);

        AssertSameTensors(LocalTorch.Run(Fixtures.Path(model + ".pt"), null, inputs), LocalTorch.Run(rewritten, null, inputs));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void AnIdentityRewriteKeepsEveryRecordInOrderAlignedAsPyTorchWritesThem(string model)
    {
        ModelArchive original = ModelArchive.Read(Bytes(model));
        byte[] rewritten = original.ToBytes();

        ModelArchive reread = ModelArchive.Read(rewritten);
        Assert.Equal(original.Entries.Select(e => e.Name), reread.Entries.Select(e => e.Name));
        Assert.All(original.Entries.Zip(reread.Entries), pair => Assert.Equal(pair.First.Data, pair.Second.Data));
        Assert.All(DataOffsets(rewritten), offset => Assert.Equal(0, offset % ZipWriter.PyTorchAlignment));
    }

    [Fact]
    public void TheSameSeedMakesTheSameCorpus()
    {
        var mutator = new ModelMutator();

        MutatedModel[] first = [.. mutator.Corpus(seed: 7, count: 2 * KindCount)];
        MutatedModel[] second = [.. mutator.Corpus(seed: 7, count: 2 * KindCount)];

        Assert.Equal(first.Select(m => m.ToString()), second.Select(m => m.ToString()));
        Assert.All(first.Zip(second), pair => Assert.Equal(pair.First.Bytes, pair.Second.Bytes));
    }

    [Fact]
    public void AnotherSeedMakesOtherMutants()
    {
        var mutator = new ModelMutator();

        string[] first = [.. mutator.Corpus(seed: 7, count: KindCount).Select(m => m.Description)];
        string[] second = [.. mutator.Corpus(seed: 8, count: KindCount).Select(m => m.Description)];

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void TwiceTheKindsCoverEveryKindAndEveryModel()
    {
        MutatedModel[] corpus = [.. new ModelMutator().Corpus(seed: 11, count: 2 * KindCount)];

        Assert.Equal(ModelMutator.Kinds.Order(), corpus.Select(m => m.Kind).Distinct().Order());
        Assert.Equal(ModelMutator.CommittedModels.Order(), corpus.Select(m => m.Source).Distinct().Order());
        Assert.All(ModelMutator.Kinds, kind => Assert.Equal(2, corpus.Count(m => m.Kind == kind)));
    }

    [Theory]
    [MemberData(nameof(ApplicableCases))]
    public void EveryMutationChangesTheBytes(string kindName, string model)
    {
        MutationKind kind = Enum.Parse<MutationKind>(kindName);
        byte[] original = Bytes(model);
        byte[] identity = ModelArchive.Read(original).ToBytes();
        var mutator = new ModelMutator(zeroBombBytes: 1 << 20);

        for (int seed = 0; seed < 3; seed++)
        {
            MutatedModel mutant = mutator.Mutate(model, original, kind, seed);

            Assert.Equal((model, kind, seed), (mutant.Source, mutant.Kind, mutant.Seed));
            Assert.False(mutant.Bytes.AsSpan().SequenceEqual(original), $"{mutant} is the original");
            Assert.False(mutant.Bytes.AsSpan().SequenceEqual(identity), $"{mutant} is the identity rewrite");
            Assert.False(string.IsNullOrWhiteSpace(mutant.Description));
        }
    }

    [Fact]
    public void TheVersionRecordGetsTheValueThatOverflowsStoull()
    {
        var mutator = new ModelMutator();
        string[] versions = [.. Enumerable.Range(0, 8).Select(seed => Record(mutator.Mutate("identity", Bytes("identity"), MutationKind.AbsurdVersion, seed), "version"))];

        Assert.Contains("18446744073709551616\n", versions);
        Assert.DoesNotContain("3\n", versions);
    }

    [Fact]
    public void AWeightAndItsBiasTradeRecords()
    {
        MutatedModel mutant = new ModelMutator().Mutate("demo_mlp", Bytes("demo_mlp"), MutationKind.SwapWeightAndBias, seed: 1);
        ModelArchive original = ModelArchive.Read(Bytes("demo_mlp"));
        ModelArchive swapped = ModelArchive.Read(mutant.Bytes);

        long[] before = [.. original.DataRecords.Select(r => r.Length)];
        long[] after = [.. swapped.DataRecords.Select(r => r.Length)];
        Assert.Equal(before.Order(), after.Order());
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void TheStackMutationsInsertTheirWholeExpressionIntoAForward()
    {
        var mutator = new ModelMutator();
        MutatedModel nested = mutator.Mutate("demo_mlp", Bytes("demo_mlp"), MutationKind.NestedParentheses, seed: 2);
        MutatedModel sum = mutator.Mutate("demo_mlp", Bytes("demo_mlp"), MutationKind.LongAdditionChain, seed: 2);

        string nestedSource = Changed(nested);
        string sumSource = Changed(sum);

        Assert.Matches("_n = \\({" + ModelMutator.NestingDepth + "}[a-z_0-9]+\\){" + ModelMutator.NestingDepth + "}\n", nestedSource);
        Assert.DoesNotContain(new string('(', ModelMutator.NestingDepth + 1), nestedSource, StringComparison.Ordinal);
        Assert.Contains("def forward", nestedSource, StringComparison.Ordinal);
        Assert.Equal(ModelMutator.AdditionTerms - 1, sumSource.Split(" + ").Length - 1);
    }

    [Fact]
    public void TheCommentBombIsSmallInTheFileAndDeclares256MiB()
    {
        MutatedModel bomb = new ModelMutator().Mutate("demo_mlp", Bytes("demo_mlp"), MutationKind.CommentBomb, seed: 3);

        Assert.InRange(bomb.Bytes.Length, 1, 1 << 20);
        using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(bomb.Bytes));
        Assert.Contains(zip.Entries, e => e.FullName.EndsWith(".py", StringComparison.Ordinal) && e.Length == ModelMutator.CommentBombBytes);
    }

    [Fact]
    public void AGlobalIsRenamedToSomethingThatDoesNotExist()
    {
        var mutator = new ModelMutator();
        byte[] original = ModelArchive.Read(Bytes("two_in_tuple_out")).Find("data.pkl")!.Data;

        for (int seed = 0; seed < 6; seed++)
        {
            MutatedModel mutant = mutator.Mutate("two_in_tuple_out", Bytes("two_in_tuple_out"), MutationKind.UnknownGlobal, seed);
            byte[] pickle = ModelArchive.Read(mutant.Bytes).Find("data.pkl")!.Data;

            // The pickle still parses to its STOP, one GLOBAL naming something else.
            Assert.Equal(PickleOp.Walk(original).Select(op => op.Code), PickleOp.Walk(pickle).Select(op => op.Code));
            Assert.Equal((byte)'.', pickle[^1]);
            Assert.NotEqual(original, pickle);
        }
    }

    private static byte[] Bytes(string model) => File.ReadAllBytes(Fixtures.Path(model + ".pt"));

    private static Tensor[] Inputs(string model) =>
        [.. Enumerable.Range(0, 4).Select(i => $"{model}.input{i}.npy").Where(f => File.Exists(Fixtures.Path(f))).Select(Fixtures.Npy)];

    private static string Record(MutatedModel mutant, string name) =>
        System.Text.Encoding.ASCII.GetString(ModelArchive.Read(mutant.Bytes).Find(name)!.Data);

    // The one code file that differs from demo_mlp's.
    private static string Changed(MutatedModel mutant)
    {
        ModelArchive original = ModelArchive.Read(Bytes(mutant.Source));
        ArchiveEntry changed = Assert.Single(ModelArchive.Read(mutant.Bytes).CodeFiles, e => !e.Data.AsSpan().SequenceEqual(original.Find(e.Name[original.Prefix.Length..])!.Data));
        return System.Text.Encoding.ASCII.GetString(changed.Data);
    }

    private static void AssertSameTensors(Tensor[] expected, Tensor[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            Assert.Equal(expected[i].Data.ToArray(), actual[i].Data.ToArray());
        }
    }

    // Where each local header's data starts: after the 30-byte header, the name and the extra field.
    private static List<long> DataOffsets(byte[] zip)
    {
        var offsets = new List<long>();
        int at = 0;
        while (BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(at)) == 0x04034b50)
        {
            int compressed = BinaryPrimitives.ReadInt32LittleEndian(zip.AsSpan(at + 18));
            int data = at + 30 + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 26)) + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 28));
            offsets.Add(data);
            at = data + compressed;
        }

        return offsets;
    }
}
