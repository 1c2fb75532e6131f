using System.Collections.Concurrent;
using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Client.Internal;

/// <summary>
/// End-to-end latency of a session's runs per model, as the application saw them: completed runs in a
/// histogram, failed ones counted. Cumulative since the session opened. Thread-safe.
/// </summary>
internal sealed class SessionUsage
{
    private readonly ConcurrentDictionary<string, ModelTally> _models = new(StringComparer.Ordinal);
    private long _version;

    /// <summary>Grows with every run recorded, so a reporter can tell whether anything changed.</summary>
    public long Version => Interlocked.Read(ref _version);

    public void Succeeded(string modelId, TimeSpan elapsed)
    {
        Tally(modelId).Latency.Record(Math.Max(0, elapsed.TotalSeconds));
        Interlocked.Increment(ref _version);
    }

    /// <summary>Counts a failed run; returns false so it can sit in an exception filter.</summary>
    public bool Failed(string modelId)
    {
        Interlocked.Increment(ref Tally(modelId).Failures);
        Interlocked.Increment(ref _version);
        return false;
    }

    public List<ModelUsage> ToProto() =>
        [.. _models.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m =>
        {
            Histogram total = m.Value.Latency.ToProto();
            return new ModelUsage { ModelId = m.Key, Inferences = total.Count, Failures = Interlocked.Read(ref m.Value.Failures), Total = total };
        })];

    private ModelTally Tally(string modelId) => _models.GetOrAdd(modelId, _ => new ModelTally());

    private sealed class ModelTally
    {
        public readonly LatencyHistogram Latency = new();
        public long Failures;
    }
}
