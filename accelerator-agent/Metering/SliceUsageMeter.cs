using System.Collections.Concurrent;
using System.Security.Cryptography;
using AccelBroker.Protocol.V1;

namespace AccelBroker.Agent.Metering;

/// <summary>
/// What ran on one slice since it was assigned, per model. It lives with its slice, so a dropped slice's
/// usage goes with it and a slice assigned again starts from zero, under a new <see cref="Incarnation"/>.
/// </summary>
internal sealed class SliceUsageMeter(string sliceId)
{
    private readonly ConcurrentDictionary<string, ModelUsageMeter> _models = new(StringComparer.Ordinal);

    public string SliceId { get; } = sliceId;

    /// <summary>Tells the broker these counters are not the ones it saw before a restart: they start from zero.</summary>
    public string Incarnation { get; } = RandomNumberGenerator.GetHexString(16, lowercase: true);

    public ModelUsageMeter Model(string modelId) => _models.GetOrAdd(modelId, id => new ModelUsageMeter(id));

    /// <summary>Cumulative figures by model id, for the heartbeat.</summary>
    public SliceUsage ToProto()
    {
        var usage = new SliceUsage { SliceId = SliceId, Incarnation = Incarnation };
        usage.Models.AddRange(_models.Values.OrderBy(m => m.ModelId, StringComparer.Ordinal).Select(m => m.ToProto()));
        return usage;
    }
}
