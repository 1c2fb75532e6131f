namespace AccelBroker.Tests.Isolation.Corpus;

/// <summary>One case of the crash corpus: a broken copy of a committed model.</summary>
/// <param name="Source">The committed model it was made from, e.g. "demo_mlp".</param>
/// <param name="Kind">How it was broken.</param>
/// <param name="Seed">The seed <see cref="ModelMutator.Mutate"/> was given: the same seed makes the same bytes.</param>
/// <param name="Description">What exactly changed, for a failure message.</param>
/// <param name="Bytes">The file to upload.</param>
internal sealed record MutatedModel(string Source, MutationKind Kind, int Seed, string Description, byte[] Bytes)
{
    public override string ToString() => $"{Kind} of {Source} (seed {Seed}, {Bytes.Length} bytes): {Description}";
}
