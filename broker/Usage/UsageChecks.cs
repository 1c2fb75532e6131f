using System.Globalization;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Broker.Usage;

/// <summary>Checks of usage reports from agents and clients, before anything of them is kept.</summary>
internal static class UsageChecks
{
    public const int MaxModels = 1000;
    public const int MaxIdLength = 256;

    /// <summary>Why the models of a report are malformed, or null: "models[0] ('m') total: bucket counts add up to 3 but count is 4".</summary>
    public static string? FindProblem(IReadOnlyList<ModelUsage> models) => FindProblem(models, folded: false);

    /// <summary>
    /// As <see cref="FindProblem(IReadOnlyList{ModelUsage})"/> for totals that add up reports which passed it: a
    /// phase histogram may hold fewer runs than inferences, as reports without phases (clients') add none, and
    /// there may be more than <see cref="MaxModels"/> models.
    /// </summary>
    public static string? FindFoldedProblem(IReadOnlyList<ModelUsage> models) => FindProblem(models, folded: true);

    private static string? FindProblem(IReadOnlyList<ModelUsage> models, bool folded)
    {
        // Folded totals gather the models of many reports, so only each report is held to the limit.
        if (!folded && models.Count > MaxModels)
        {
            return Invariant($"at most {MaxModels} models per report (got {models.Count})");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < models.Count; i++)
        {
            ModelUsage model = models[i];
            string where = Invariant($"models[{i}]");
            string? problem = FindIdProblem("model_id", model.ModelId);
            if (problem is not null)
            {
                return $"{where}: {problem}";
            }

            where += $" ('{model.ModelId}')";
            if (!seen.Add(model.ModelId))
            {
                return $"{where}: model_id appears more than once";
            }

            if (model.Inferences < 0 || model.Failures < 0)
            {
                return Invariant($"{where}: inferences and failures must not be negative (got {model.Inferences} and {model.Failures})");
            }

            if (model.RejectedQueueFull < 0 || model.DroppedDeadline < 0)
            {
                return Invariant($"{where}: rejected_queue_full and dropped_deadline must not be negative (got {model.RejectedQueueFull} and {model.DroppedDeadline})");
            }

            problem = FindHistogramProblem("total", model.Total, model.Inferences, required: model.Inferences > 0, partial: false)
                ?? FindHistogramProblem("queue", model.Queue, model.Inferences, required: false, partial: folded)
                ?? FindHistogramProblem("decode", model.Decode, model.Inferences, required: false, partial: folded)
                ?? FindHistogramProblem("compute", model.Compute, model.Inferences, required: false, partial: folded)
                ?? FindHistogramProblem("encode", model.Encode, model.Inferences, required: false, partial: folded);
            if (problem is not null)
            {
                return $"{where} {problem}";
            }
        }

        return null;
    }

    /// <summary>Why an agent's incarnation id is not acceptable, or null; empty is (agents that predate it send none).</summary>
    public static string? FindIncarnationProblem(string incarnation) =>
        incarnation.Length == 0 ? null : FindIdProblem("incarnation", incarnation);

    /// <summary>Why a slice's memory figures are malformed, or null; none sent reads as nothing resident.</summary>
    public static string? FindMemoryProblem(SliceState? state) =>
        state is not null && (state.MemoryChargedBytes < 0 || state.ModelsResident < 0)
            ? Invariant($"memory_charged_bytes and models_resident must not be negative (got {state.MemoryChargedBytes} and {state.ModelsResident})")
            : null;

    /// <summary>Why an id is not acceptable, or null.</summary>
    public static string? FindIdProblem(string field, string id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return $"{field} is required";
        }

        return id.Length > MaxIdLength || id.Any(char.IsControl)
            ? Invariant($"{field} must be at most {MaxIdLength} characters without control characters")
            : null;
    }

    // Every histogram of a model holds its completed runs (a folded phase at most them); an absent phase histogram is
    // allowed (clients send none).
    private static string? FindHistogramProblem(string name, Histogram? histogram, long inferences, bool required, bool partial)
    {
        if (histogram is null)
        {
            return required ? Invariant($"{name}: missing, but inferences is {inferences}") : null;
        }

        string? problem = LatencyHistogram.FindProblem(histogram);
        if (problem is not null)
        {
            return $"{name}: {problem}";
        }

        return histogram.Count > inferences || (!partial && histogram.Count != inferences)
            ? Invariant($"{name}: holds {histogram.Count} runs but inferences is {inferences}")
            : null;
    }

    private static string Invariant(FormattableString message) => message.ToString(CultureInfo.InvariantCulture);
}
