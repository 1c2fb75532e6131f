using System.Diagnostics.Metrics;

namespace AccelBroker.Client.Internal;

/// <summary>The client library's meter: calls that recovered from a moved or lost agent.</summary>
internal static class RecoveryMetrics
{
    private static readonly Meter Meter = new(AcceleratorTracing.MeterName, typeof(RecoveryMetrics).Assembly.GetName().Version?.ToString());

    public static readonly Counter<long> Recoveries = Meter.CreateCounter<long>(
        "accel.client.recoveries", unit: "{call}", description: "Calls that succeeded after re-resolving their accelerator through the broker.");
}
