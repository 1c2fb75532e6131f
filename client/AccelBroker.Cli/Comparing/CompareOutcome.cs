using AccelBroker.Cli.Measuring;

namespace AccelBroker.Cli.Comparing;

/// <summary>What measuring one combination gave: a closed loop's result and where and how it ran, or why nothing ran.</summary>
internal sealed record CompareOutcome(ClosedLoopResult? Result, string? ExecutedOn, string? MeasuredHow, string? Reason, DoesNotFit? DoesNotFit, AccuracyResult? Accuracy)
{
    public static CompareOutcome NotMeasured(string reason) => new(null, null, null, reason, null, null);

    public static CompareOutcome NotFitting(DoesNotFit doesNotFit) => new(null, null, null, doesNotFit.Text, doesNotFit, null);
}
