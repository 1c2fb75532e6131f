using System.Diagnostics.Metrics;
using AccelBroker.Agent.Internal;
using AccelBroker.Agent.Metering;
using AccelBroker.Agent.Slices;
using AccelBroker.Protocol.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AccelBroker.Tests.Agent;

/// <summary>Each run is counted once in the slice's usage (for the broker) and once in the AccelBroker.Agent meter (for Prometheus).</summary>
public sealed class InferenceMeteringTests : IDisposable
{
    private static readonly RunTiming Timing = new() { QueueSeconds = 0.001, DecodeSeconds = 0.002, ComputeSeconds = 0.003, EncodeSeconds = 0.004 };

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly IMeterFactory _meterFactory;
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, double Value, Dictionary<string, string> Tags)> _measurements = [];

    public InferenceMeteringTests()
    {
        _meterFactory = _services.GetRequiredService<IMeterFactory>();
        // Only this factory's meter: an in-process agent of another test publishes under the same name.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == AgentMetrics.MeterName && instrument.Meter.Scope == _meterFactory)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    [Fact]
    public void ACompletedRunIsCountedWithItsPhasesAndAFailedOneAsAnError()
    {
        var metering = new InferenceMetering(_meterFactory);
        var slice = new AcceleratorSlice(new SliceAssignment { SliceId = "acc-1" }, evictionThreshold: 0.9);

        metering.Succeeded(slice, "model-a", Timing);
        Assert.False(metering.Failed(slice, "model-a"));

        ModelUsage usage = Assert.Single(slice.Usage.ToProto().Models);
        Assert.Equal("model-a", usage.ModelId);
        Assert.Equal(1, usage.Inferences);
        Assert.Equal(1, usage.Failures);
        Assert.Equal(0.010, usage.Total.SumSeconds, 12);
        Assert.Equal(0.003, usage.Compute.SumSeconds, 12);
        Assert.All(new[] { usage.Total, usage.Queue, usage.Decode, usage.Compute, usage.Encode }, h => Assert.Equal(1, h.Count));

        var counts = _measurements.Where(m => m.Instrument == "accelbroker.agent.inferences").ToList();
        Assert.Equal(["ok", "error"], counts.Select(m => m.Tags["outcome"]));
        Assert.All(counts, m => Assert.Equal(("acc-1", "model-a", 1.0), (m.Tags["slice"], m.Tags["model"], m.Value)));
        var durations = _measurements.Where(m => m.Instrument == "accelbroker.agent.inference.duration").ToDictionary(m => m.Tags["phase"], m => m.Value);
        Assert.Equal(0.010, durations["total"], 12);
        Assert.Equal(0.001, durations["queue"]);
        Assert.Equal(0.002, durations["decode"]);
        Assert.Equal(0.003, durations["compute"]);
        Assert.Equal(0.004, durations["encode"]);
    }

    [Fact]
    public void ADroppedSliceTakesItsUsageWithItAndStartsFromZeroWhenAssignedAgain()
    {
        var metering = new InferenceMetering(_meterFactory);
        var registry = new SliceRegistry(new AgentCapacity { MemoryBytes = 1 << 20, Compute = 1 }, 0.9, NullLogger<SliceRegistry>.Instance);
        var assignment = new SliceAssignment { SliceId = "acc-2", SliceType = "t", MemoryBytes = 1, ComputeShare = 0.5, Host = "h" };
        registry.Reconcile([assignment]);
        metering.Succeeded(registry.Get("acc-2"), "model-a", Timing);
        Assert.Single(registry.Get("acc-2").Usage.ToProto().Models);

        registry.Reconcile([]);
        registry.Reconcile([assignment]);

        SliceUsage usage = registry.Get("acc-2").Usage.ToProto();
        Assert.Equal("acc-2", usage.SliceId);
        Assert.Empty(usage.Models);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    private void Add<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            map[tag.Key] = tag.Value?.ToString() ?? "";
        }

        lock (_measurements)
        {
            _measurements.Add((instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), map));
        }
    }
}
