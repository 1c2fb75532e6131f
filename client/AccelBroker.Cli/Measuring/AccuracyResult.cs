using System.Globalization;

namespace AccelBroker.Cli.Measuring;

/// <summary>
/// A reduced-precision model's outputs against the fp32 model's on the same inputs, one entry per output tensor;
/// or why it could not be checked (then <see cref="Outputs"/> is empty).
/// </summary>
internal sealed record AccuracyResult(string Precision, string Reference, IReadOnlyList<OutputAccuracy> Outputs, string? NotCheckedReason)
{
    public const string Fp32 = "fp32";

    public bool Checked => NotCheckedReason is null;

    /// <summary>The lowest cosine similarity of any output; null when unchecked or an output has non-finite values.</summary>
    public double? MinCosineSimilarity => Checked && Outputs.All(o => o.CosineSimilarity is not null) ? Outputs.Min(o => o.CosineSimilarity) : null;

    /// <summary>The largest absolute difference over all outputs; null as <see cref="MinCosineSimilarity"/>.</summary>
    public double? MaxAbsDifference => Checked && Outputs.All(o => o.MaxAbsDifference is not null) ? Outputs.Max(o => o.MaxAbsDifference) : null;

    public static AccuracyResult NotChecked(string precision, string reason) => new(precision, Fp32, [], reason);

    /// <summary>One line for the tables: lowest cosine and largest difference, or why there are none.</summary>
    public string Describe() => this switch
    {
        { NotCheckedReason: { } reason } => "not checked: " + reason,
        { MinCosineSimilarity: { } cosine, MaxAbsDifference: { } diff } =>
            $"{cosine.ToString("0.000000", CultureInfo.InvariantCulture)}, {diff.ToString("G3", CultureInfo.InvariantCulture)}",
        _ => "non-finite outputs at reduced precision",
    };
}

/// <summary>
/// One output: cosine similarity of the two outputs as flat vectors (TorchBench's check; 1 is identical direction)
/// and the largest absolute element difference. Both null when the reduced output has NaN or infinite elements
/// (counted in <see cref="NonFiniteElements"/>), e.g. an fp16 overflow.
/// </summary>
internal sealed record OutputAccuracy(int Output, IReadOnlyList<long> Shape, double? CosineSimilarity, double? MaxAbsDifference, int NonFiniteElements);
