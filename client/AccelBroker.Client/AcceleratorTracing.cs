using System.Diagnostics;

namespace AccelBroker.Client;

/// <summary>
/// The client library's traces: one <see cref="ActivitySource"/>, with an activity per model load and per run.
/// Its trace context travels to the agent in the W3C <c>traceparent</c> header of each call, so the agent's
/// spans of the same run join the application's trace. Subscribe with OpenTelemetry's
/// <c>AddSource(AcceleratorTracing.SourceName)</c>; with no listener nothing is recorded.
/// </summary>
public static class AcceleratorTracing
{
    /// <summary>
    /// The name of the client library's <see cref="System.Diagnostics.Metrics.Meter"/>: its counter
    /// <c>accel.client.recoveries</c> counts calls that succeeded after their accelerator was re-resolved (a moved or
    /// lost agent); such a call's activity carries the tag <c>accel.recovered</c> and an <c>accel.recovered</c> event.
    /// </summary>
    public const string MeterName = "AccelBroker.Client";

    /// <summary>The name of the client library's activity source.</summary>
    public const string SourceName = "AccelBroker.Client";

    internal static readonly ActivitySource Source = new(SourceName, typeof(AcceleratorTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Marks <paramref name="activity"/> failed with the exception's type; the message stays out (it can name inputs).</summary>
    internal static void Failed(Activity? activity, Exception ex)
    {
        if (activity is null)
        {
            return;
        }

        if (ex is Grpc.Core.RpcException rpc)
        {
            activity.SetStatus(ActivityStatusCode.Error, rpc.StatusCode.ToString());
            activity.SetTag("rpc.grpc.status_code", (int)rpc.StatusCode);
        }
        else
        {
            activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
        }
    }
}
