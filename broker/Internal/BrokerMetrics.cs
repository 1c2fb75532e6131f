using System.Diagnostics.Metrics;
using AccelBroker.Broker.Attachments;
using AccelBroker.Broker.Fleet;

namespace AccelBroker.Broker.Internal;

/// <summary>
/// The broker's meter: the fleet and its attachments as gauges, read from the registry and the attachment
/// book when collected (no polling). Per-accelerator series carry host, ordinal, accelerator_id and slice_type.
/// </summary>
internal sealed class BrokerMetrics
{
    public const string MeterName = "AccelBroker.Broker";

    private readonly AgentRegistry _registry;
    private readonly AttachmentBook _book;

    public BrokerMetrics(IMeterFactory meterFactory, AgentRegistry registry, AttachmentBook book)
    {
        _registry = registry;
        _book = book;
        Meter meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("accelbroker.broker.agents", ObserveAgents, unit: "{agent}",
            description: "Registered agents by health.");
        meter.CreateObservableGauge("accelbroker.broker.accelerators", () => _book.All().Count, unit: "{accelerator}",
            description: "Accelerators attached to client hosts.");
        meter.CreateObservableGauge("accelbroker.broker.accelerator.health_check_failed", ObserveHealthCheckFailed,
            description: "1 when the accelerator's agent is unhealthy or unknown, else 0 (Elastic Inference's HealthCheckFailed).");
        meter.CreateObservableGauge("accelbroker.broker.accelerator.memory", ObserveMemory, unit: "By",
            description: "Accelerator memory reserved for each attached accelerator.");
    }

    private IEnumerable<Measurement<int>> ObserveAgents()
    {
        int healthy = 0;
        int unhealthy = 0;
        foreach (AgentRecord agent in _registry.Snapshot())
        {
            if (_registry.IsHealthy(agent))
            {
                healthy++;
            }
            else
            {
                unhealthy++;
            }
        }

        return
        [
            new Measurement<int>(healthy, new KeyValuePair<string, object?>("status", AgentHealthReading.HealthyName)),
            new Measurement<int>(unhealthy, new KeyValuePair<string, object?>("status", AgentHealthReading.UnhealthyName)),
        ];
    }

    private IEnumerable<Measurement<int>> ObserveHealthCheckFailed() =>
        _book.All().Select(attachment =>
        {
            bool healthy = _registry.TryGet(attachment.AgentId, out AgentRecord? agent) && _registry.IsHealthy(agent);
            return new Measurement<int>(healthy ? 0 : 1, Tags(attachment));
        });

    private IEnumerable<Measurement<long>> ObserveMemory() =>
        _book.All().Select(attachment => new Measurement<long>(attachment.MemoryBytes, Tags(attachment)));

    private static KeyValuePair<string, object?>[] Tags(AttachmentRecord attachment) =>
    [
        new("host", attachment.Host),
        new("ordinal", attachment.Ordinal),
        new("accelerator_id", attachment.Id),
        new("slice_type", attachment.SliceType),
    ];
}
